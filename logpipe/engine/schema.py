"""The rule file format as pydantic models: typed validation (unknown keys refused) and the published JSON Schema
(`logpipe rules schema`). Conditions are checked by conditions.py, which knows their recursive shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from logpipe.config.durations import parse_duration
from logpipe.config.fields import Duration
from logpipe.engine.metrics.schema import MetricModel

_CONDITION_MARK = "x-logpipe-condition"  # replaced by a $ref to the hand-written Condition schema below
ConditionSpec = Annotated[Any, WithJsonSchema({_CONDITION_MARK: True})]
Severity = Literal["info", "warning", "critical"]
Function = Literal["p50", "p90", "p95", "p99", "avg", "max", "min", "sum", "count"]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Examples(_Strict):
    """Lines the rule's `match` condition must hold on, and lines it must not. Multi-line strings are one event."""

    match: list[str] = Field(min_length=1)
    no_match: list[str] = []


class Thresholds(_Strict):
    warning: float | None = None
    critical: float | None = None


class Flapping(_Strict):
    """An incident whose state changes `changes` times within its last `evaluations` evaluations is flapping: it
    says so once and stays quiet until it has been stable for as long (Kibana's rule, Nagios' flap detection)."""

    changes: int = Field(4, ge=2)
    evaluations: int = Field(20, ge=2)


class Inhibit(_Strict):
    """While an incident of this rule is open, incidents of `rule` (whose event meets `when`, sharing the values of
    the `equal` fields) are folded into it: counted and listed on its next update, not sent on their own."""

    rule: Identifier
    when: ConditionSpec | None = Field(None, description="a condition on the symptom's triggering event")
    equal: list[str] = Field([], description="fields (group fields or container) that must be equal on both")


class _Rule(_Strict):
    """What every kind has: identity, the texts for people, the match, grouping, where it goes, its incidents."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)  # `pending` is `for` in files

    id: Identifier
    enabled: bool = Field(True, description="false: loaded and checked, but not run (a later file may say so)")
    replace: bool = Field(False, description="this definition replaces an earlier rule with the same id")
    title: str = Field(min_length=1)
    severity: Severity = "warning"
    description: str = ""
    runbook: str = Field(min_length=1, description="what the person on call does first")
    match: ConditionSpec = Field(description="the events this rule is about (for ratio: the numerator)")
    group_by: list[str] = []
    labels: dict[str, str] = Field(
        {}, description="fixed labels on every incident (silences and maintenance windows can match them)"
    )
    throttle: Duration = Field(default=parse_duration("5m"), description="at most one update per incident this often")
    repeat_interval: Duration = Field(
        default=parse_duration("4h"), description="a reminder of an incident still open after this long"
    )
    summary: list[str] = Field(
        [], description="fields whose distinct values notifications list with counts (e.g. ctx.user)"
    )
    inhibits: list[Inhibit] = Field([], description="symptoms this rule's incidents fold in while open")
    group_wait: Duration | None = Field(
        None,
        description="hold a new incident's first notification this long (a cause arriving meanwhile folds it in)",
    )
    actions: list[str] = Field(
        [],
        validation_alias=AliasChoices("actions", "routes"),
        description="sinks and channels to send to (default: the config's route for the severity); `routes` too",
    )
    sentry: Literal["event", "breadcrumb", "off"] | None = Field(
        None, description="default: critical alerts are Sentry events, info and warning are breadcrumbs"
    )
    fingerprint: list[str] | None = Field(
        None, description="Sentry fingerprint, each item a template (default: rule id and group)"
    )
    template: str | None = Field(
        None, description="a template set: <template>.slack.json.j2 etc. override the defaults where they exist"
    )
    examples: Examples


class _Counted(_Rule):
    """Kinds whose incidents count matches: each match is reported once."""

    resolve_after: Duration | None = Field(
        None, description="an incident quiet this long is resolved (default: the throttle)"
    )


class _Windowed(_Rule):
    """Kinds whose incidents follow a level evaluated over a window."""

    window: Duration
    pending: Duration | None = Field(None, alias="for", description="the condition must hold this long before it fires")
    keep_firing_for: Duration = Field(
        default=parse_duration("1m"), description="how long it must stay clear to resolve"
    )
    flapping: Flapping = Flapping.model_validate({})  # frozen: one shared default is safe


class _Leveled(_Windowed):
    """A value with a warning and a critical level (or one level, `above`, at the rule's severity)."""

    evaluate_every: Duration = Field(default=parse_duration("10s"))
    above: float | None = Field(None, description="fire when the value is above this")
    thresholds: Thresholds | None = Field(None, description="a warning and a critical level")

    @model_validator(mode="after")
    def _one_way_to_say_the_level(self) -> _Leveled:
        if self.above is not None and self.thresholds is not None:
            raise ValueError("give either `above` (with `severity`) or `thresholds`, not both")
        if self.above is None and (
            self.thresholds is None or (self.thresholds.warning is None and self.thresholds.critical is None)
        ):
            raise ValueError("needs `above` or `thresholds`")
        levels = self.thresholds
        if levels is not None and None not in (levels.warning, levels.critical) and levels.critical <= levels.warning:  # type: ignore[operator]
            raise ValueError("the critical threshold must be above the warning one")
        return self


class EveryModel(_Counted):
    """Each match (the default kind)."""

    kind: Literal["every"] = "every"


class ThresholdModel(_Counted):
    """`count` matches within `window`."""

    kind: Literal["threshold"]
    count: int = Field(ge=1, description="matches within the window that fire")
    window: Duration


class SequenceModel(_Counted):
    """`match` not followed by `then` with the same `key` within `within`."""

    kind: Literal["sequence"]
    then: ConditionSpec = Field(description="the event that must follow `match`")
    key: list[str] = Field(min_length=1, description="fields that tie `then` to `match` (e.g. a user id)")
    within: Duration = Field(description="how long `then` may take")


class RatioModel(_Leveled):
    """`match` events among `base` events within the window (5xx among responses)."""

    kind: Literal["ratio"]
    base: ConditionSpec = Field(description="the events the ratio is taken over")
    min_base: int = Field(1, ge=1, description="fewest base events to judge")


class AggregateModel(_Leveled):
    """A statistic of a numeric field within the window (p95 of http.duration_ms)."""

    kind: Literal["aggregate"]
    value: str = Field(description="the numeric field")
    function: Function
    min_count: int = Field(1, ge=1, description="fewest values to judge")


class AbsenceModel(_Windowed):
    """Fewer than `min_count` matches within the window (the API stopped serving)."""

    kind: Literal["absence"]
    min_count: int = Field(1, ge=1, description="fewest matches expected within the window")


KIND_MODELS: dict[str, type[_Rule]] = {
    "every": EveryModel,
    "threshold": ThresholdModel,
    "sequence": SequenceModel,
    "ratio": RatioModel,
    "aggregate": AggregateModel,
    "absence": AbsenceModel,
}


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "every"))
    return str(getattr(value, "kind", "every"))


# one class and one schema per kind: a setting a kind does not read is an unknown key for it
RuleModel = Annotated[
    Annotated[EveryModel, Tag("every")]
    | Annotated[ThresholdModel, Tag("threshold")]
    | Annotated[SequenceModel, Tag("sequence")]
    | Annotated[RatioModel, Tag("ratio")]
    | Annotated[AggregateModel, Tag("aggregate")]
    | Annotated[AbsenceModel, Tag("absence")],
    Discriminator(_kind_of),
]
AnyRule = EveryModel | ThresholdModel | SequenceModel | RatioModel | AggregateModel | AbsenceModel


class ExtractModel(_Strict):
    """Derive fields before rules run: regex captures from a text field, or copies of other fields."""

    id: Identifier
    description: str = ""
    when: ConditionSpec | None = None
    source: str = Field("message", alias="from", description="the field the regex reads")
    regex: str | None = None
    prefix: str = Field("", description="captures become <prefix>.<group name>")
    copy_fields: dict[str, str] = Field({}, alias="copy", description="new field: source field")


#: what an override may not change: what a rule matches and how it counts is the rule (write it again, with
#: `replace: true`, to change those)
FIXED_KEYS = ("kind", "match", "base", "then", "key", "value", "examples", "replace")


class Override(_Strict):
    """An earlier rule's settings changed by id, field by field: `enabled: false`, a severity, a window, a count,
    thresholds... Mappings (thresholds, labels, flapping) are merged key by key; lists and values replace."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Identifier = Field(description="the rule to change, defined in an earlier file or pack")
    enabled: bool | None = None
    severity: Severity | None = None
    title: str | None = Field(None, min_length=1)
    description: str | None = None
    runbook: str | None = Field(None, min_length=1)
    group_by: list[str] | None = None
    labels: dict[str, str] | None = None
    throttle: Duration | None = None
    repeat_interval: Duration | None = None
    summary: list[str] | None = None
    inhibits: list[Inhibit] | None = None
    group_wait: Duration | None = None
    actions: list[str] | None = Field(None, validation_alias=AliasChoices("actions", "routes"))
    sentry: Literal["event", "breadcrumb", "off"] | None = None
    fingerprint: list[str] | None = None
    template: str | None = None
    resolve_after: Duration | None = None
    count: int | None = Field(None, ge=1)
    window: Duration | None = None
    within: Duration | None = None
    pending: Duration | None = Field(None, alias="for")
    keep_firing_for: Duration | None = None
    flapping: dict[str, int] | None = None
    evaluate_every: Duration | None = None
    above: float | None = None
    thresholds: dict[str, float] | None = None
    min_base: int | None = Field(None, ge=1)
    min_count: int | None = Field(None, ge=1)
    function: Function | None = None


class RuleFile(_Strict):
    extract: list[ExtractModel] = []
    rules: list[RuleModel] = []
    overrides: list[Override] = Field([], description="settings of rules defined earlier, changed by id")
    metrics: list[MetricModel] = []


_CONDITION_SCHEMA: dict[str, Any] = {
    "description": "A mapping where every key must hold (all/any/not, or a field with a value or operators), "
    "or a list meaning all of its items.",
    "oneOf": [
        {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1},
        {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "all": {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1},
                "not": {"$ref": "#/$defs/Condition"},
            },
            "additionalProperties": {
                "oneOf": [
                    {"type": ["string", "number", "boolean", "null"]},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            **{op: {} for op in ("eq", "ne")},
                            "in": {"type": "array", "minItems": 1},
                            "not_in": {"type": "array", "minItems": 1},
                            "exists": {"type": "boolean"},
                            **{op: {"type": ["number", "string"]} for op in ("gt", "gte", "lt", "lte")},
                            **{
                                op: {"type": "string", "minLength": 1}
                                for op in ("contains", "startswith", "endswith", "regex")
                            },
                            "ignore_case": {"type": "boolean"},
                        },
                    },
                ]
            },
        },
    ],
}


def json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _link_conditions(RuleFile.model_json_schema(by_alias=True))
    schema.setdefault("$defs", {})["Condition"] = _CONDITION_SCHEMA
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "logpipe rule file"
    return schema


def _link_conditions(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get(_CONDITION_MARK):
            return {"$ref": "#/$defs/Condition"}
        return {key: _link_conditions(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_link_conditions(item) for item in node]
    return node
