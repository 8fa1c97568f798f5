"""The rule file format as pydantic models: typed validation (unknown keys refused) and the published JSON Schema
(`logpipe rules schema`). Conditions are checked by conditions.py, which knows their recursive shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from logpipe.engine.durations import DURATION_PATTERN, parse_duration
from logpipe.engine.metricschema import MetricModel

Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m"]}),
]
_CONDITION_MARK = "x-logpipe-condition"  # replaced by a $ref to the hand-written Condition schema below
ConditionSpec = Annotated[Any, WithJsonSchema({_CONDITION_MARK: True})]
Severity = Literal["info", "warning", "critical"]
Kind = Literal["every", "threshold", "ratio", "aggregate", "absence", "sequence"]
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


class RuleModel(_Strict):
    id: Identifier
    title: str = Field(min_length=1)
    severity: Severity = "warning"
    description: str = ""
    runbook: str = Field(min_length=1, description="what the person on call does first")
    kind: Kind = "every"
    match: ConditionSpec = Field(description="the events this rule is about (for ratio: the numerator)")
    base: ConditionSpec | None = Field(None, description="ratio: the events the ratio is taken over")
    then: ConditionSpec | None = Field(None, description="sequence: the event that must follow `match`")
    key: list[str] = Field([], description="sequence: fields that tie `then` to `match` (e.g. a user id)")
    within: Duration | None = Field(None, description="sequence: how long `then` may take")
    window: Duration | None = None
    count: int | None = Field(None, ge=1, description="threshold: matches within the window that fire")
    min_count: int | None = Field(
        None, ge=1, description="aggregate: fewest values to judge; absence: fewest matches expected within the window"
    )
    min_base: int = Field(1, ge=1, description="ratio: fewest base events to judge")
    value: str | None = Field(None, description="aggregate: the numeric field")
    function: Function | None = None
    above: float | None = Field(None, description="ratio/aggregate: fire when the value is above this")
    thresholds: Thresholds | None = Field(None, description="ratio/aggregate: a warning and a critical level")
    group_by: list[str] = []
    throttle: Duration = Field(default=parse_duration("5m"), description="at most one alert per group this often")
    evaluate_every: Duration = Field(default=parse_duration("10s"))
    actions: list[str] = Field(
        [], description="sinks and channels to send to (default: the config's route for the severity)"
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
    tags: dict[str, str] = {}
    examples: Examples


class ExtractModel(_Strict):
    """Derive fields before rules run: regex captures from a text field, or copies of other fields."""

    id: Identifier
    description: str = ""
    when: ConditionSpec | None = None
    source: str = Field("message", alias="from", description="the field the regex reads")
    regex: str | None = None
    prefix: str = Field("", description="captures become <prefix>.<group name>")
    copy_fields: dict[str, str] = Field({}, alias="copy", description="new field: source field")


class RuleFile(_Strict):
    extract: list[ExtractModel] = []
    rules: list[RuleModel] = []
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
