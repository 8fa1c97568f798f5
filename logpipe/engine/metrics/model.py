"""Log-derived metrics: the `metrics:` of rule files compiled into definitions (`Metric`), and the state they fill
(`MetricSet`), a second output of the engine beside alerts.

The engine hands a MetricSet only the metrics the prefilter picked for an event (metrics are prefilter clients
after the rules), with the fields extractors derived; label values are plain tuples in dicts, so an observation
costs a few dict operations and no metric-library call. `export.py` turns the state into Prometheus
samples when scraped.

Cardinality is bounded twice: each label maps its field to a bounded set (`values`, `cases`, `status_class`,
route placeholders), and each metric keeps at most `max_series` label sets; past that, the event's labels all
become `other` and the overflow is counted (`logpipe_metric_overflow_total`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import structlog

from logpipe.engine.conditions import (
    Any_,
    Condition,
    FieldTest,
    Getter,
    SpecError,
    Values,
    field_getter,
    field_head,
    read_field,
)
from logpipe.engine.linear import backtracking_construct
from logpipe.engine.metrics.paths import PathNormaliser
from logpipe.engine.metrics.schema import LabelModel, MetricModel
from logpipe.event import Event

log = structlog.get_logger("logpipe.metrics")
OTHER = "other"
PathNormalisers = dict[tuple[tuple[str, str], ...], PathNormaliser]  # placeholders -> their normaliser
MAX_LABEL_LENGTH = 200
_RESERVED_PREFIX = "logpipe_"  # logpipe's own metrics


class Label:
    """Reads one label's value from an event: a field, then regex / cases / route / status class, then the
    allowed set."""

    __slots__ = (
        "allowed",
        "cases",
        "direct",
        "first",
        "getters",
        "missing",
        "name",
        "paths",
        "plain",
        "regex",
        "status_class",
    )  # fmt: skip

    def __init__(self, name: str, model: LabelModel, normalisers: PathNormalisers) -> None:
        self.name, self.missing = name, model.missing
        fields = [model.field] if isinstance(model.field, str) else model.field
        if not fields:
            raise SpecError(("field",), "name at least one field")
        self.getters: tuple[Getter, ...] = tuple(field_getter(field) for field in fields)
        self.regex = _compile(model.regex, ("regex",)) if model.regex is not None else None
        if self.regex is not None and not self.regex.groups:
            raise SpecError(("regex",), "the regex has no group: the label value is its first group (or `value`)")
        self.cases = tuple((value, _compile(regex, ("cases", value))) for value, regex in model.cases.items())
        try:
            self.paths = _normaliser(model.route, normalisers) if model.route is not None else None
        except SpecError as error:
            raise SpecError(("route", *error.path), error.problem) from None
        self.status_class = model.status_class
        self.allowed = frozenset(model.values) if model.values is not None else None
        self.first = self.getters[0] if len(self.getters) == 1 else None
        # one field that extractors may fill (not an event attribute): read from `values` without calling its
        # getter, which would look there first too (the getter still answers when extractors did not fill it)
        self.direct = fields[0] if len(fields) == 1 and field_head(fields[0]) is not None else ""
        # a label that only reads a string field, maybe normalised as a route or checked against `values`, is
        # read without value()'s chain of checks: the pack's method and route labels, on every access line
        self.plain = self.regex is None and not self.cases and not self.status_class

    def read(self, event: Event, values: Values) -> str:
        first = self.first
        if first is not None:
            raw = read_field(self.direct, first, event, values)
        else:
            raw = None
            for get in self.getters:
                raw = get(event, values)
                if raw is not None:
                    break
        if raw is None:
            return self.missing
        if self.status_class:
            return _status_class(raw)
        if self.plain and type(raw) is str:
            paths = self.paths
            text = paths.normalise(raw) if paths is not None else raw
            allowed = self.allowed
            if allowed is not None and text not in allowed:
                return OTHER
            return text if len(text) <= MAX_LABEL_LENGTH else text[:MAX_LABEL_LENGTH]
        return self.value(raw)

    def raw(self, event: Event, values: Values) -> Any:
        """What the label is made from: the first present field."""
        for get in self.getters:
            raw = get(event, values)
            if raw is not None:
                return raw
        return None

    def value(self, raw: Any) -> str:
        """The label value made from `raw` (bounded: cases, routes, status classes, the allowed values)."""
        if raw is None:
            return self.missing
        if self.status_class:
            return _status_class(raw)
        text = raw if isinstance(raw, str) else str(raw)
        if self.regex is not None:
            found = self.regex.search(text)
            if found is None:
                return self.missing
            text = found.group("value") if "value" in self.regex.groupindex else found.group(1)
            if text is None:
                return self.missing
        if self.cases:
            for value, pattern in self.cases:
                if pattern.search(text):
                    text = value
                    break
            else:
                return self.missing
        if self.paths is not None:
            text = self.paths.normalise(text)
        if self.allowed is not None and text not in self.allowed:
            return OTHER
        return text[:MAX_LABEL_LENGTH]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    type: str  # counter | histogram | gauge
    help: str
    condition: Condition
    # a top-level `any:` is split into its branches, each a prefilter client of its own: a branch that needs a
    # text pattern is then tried only on events that have it, whatever the other branches need
    branches: tuple[Condition, ...]
    labels: tuple[Label, ...]
    value: Getter | None
    scale: float
    buckets: tuple[float, ...]  # histogram upper bounds, without +Inf
    max_series: int
    model: MetricModel
    source: str  # file:line
    value_field: str = ""  # `value` when extractors may fill it: read from `values` first, as its getter would

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)


def metric_clients(metrics: Sequence[Metric]) -> tuple[tuple[int, Condition], ...]:
    """The prefilter clients of a rule set's metrics, in order: (metric index, branch) for each branch."""
    return tuple((index, branch) for index, metric in enumerate(metrics) for branch in metric.branches)


def compile_metric(
    model: MetricModel, branches: Sequence[Condition], source: str, normalisers: PathNormalisers | None = None
) -> Metric:
    """Check what the schema cannot (name conventions, the settings each type needs) and compile the labels.
    `normalisers` shares one path normaliser (and its cache) among labels with the same placeholders."""
    name = model.name
    if name.startswith(_RESERVED_PREFIX):
        raise SpecError(("name",), f"names starting with {_RESERVED_PREFIX!r} are logpipe's own metrics")
    if model.type == "counter" and not name.endswith("_total"):
        raise SpecError(("name",), "a counter's name ends in _total (Prometheus naming)")
    if model.type != "counter" and name.endswith(("_total", "_bucket", "_count", "_sum")):
        raise SpecError(("name",), f"a {model.type}'s name must not end in _total, _bucket, _count or _sum")
    if model.type == "histogram":
        if model.value is None:
            raise SpecError(("value",), "a histogram needs `value`: the numeric field it measures")
        if not model.buckets:
            raise SpecError(("buckets",), "a histogram needs `buckets`: increasing upper bounds")
        if any(b >= c for b, c in zip(model.buckets, model.buckets[1:], strict=False)):
            raise SpecError(("buckets",), "buckets must be strictly increasing")
    elif model.buckets is not None:
        raise SpecError(("buckets",), f"only a histogram has buckets, not a {model.type}")
    if model.type == "gauge" and model.value is None:
        raise SpecError(("value",), "a gauge needs `value`: the numeric field it shows")
    labels = []
    for label_name, label_model in model.labels.items():
        if label_name.startswith("__") or (model.type == "histogram" and label_name == "le"):
            raise SpecError(("labels", label_name), f"{label_name!r} is reserved by Prometheus")
        try:
            labels.append(Label(label_name, label_model, normalisers if normalisers is not None else {}))
        except SpecError as error:
            raise SpecError(("labels", label_name, *error.path), error.problem) from None
    buckets = tuple(float(bound) for bound in model.buckets or ())
    value = field_getter(model.value) if model.value is not None else None
    condition = branches[0] if len(branches) == 1 else Any_(branches)
    return Metric(
        name, model.type, model.help, condition, tuple(branches), tuple(labels), value, model.scale, buckets,
        model.max_series, model, source, model.value if model.value is not None and field_head(model.value) else "",
    )  # fmt: skip


class Histogram:
    """One series of a histogram: counts per bucket (not cumulative; the last is +Inf), and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total = 0.0


class MetricSet:
    """The values of the rule set's metrics, filled from events on the engine's thread and read by a scrape on
    another. No lock on the per-event path: a counter's value is replaced by one dict store, and the scrape copies
    each series dict (and each histogram's counts) with one C-level call, which the GIL makes atomic; at worst a
    scrape sees a histogram's sum without the event its buckets already count, and the next scrape agrees."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = tuple(metrics)
        self.clients = metric_clients(self.metrics)  # what the engine's `picked` indexes
        # per client, what observe needs of it, in one tuple: (metric index, branch, metric, branch captures, the
        # branch itself when it is an `exists: true` test, else None)
        self._plan = tuple(
            (index, branch, self.metrics[index], branch.captures, _presence(branch)) for index, branch in self.clients
        )
        self._off = [False] * len(self.metrics)
        # per metric: label values -> a float (counter, gauge) or a Histogram
        self.series: list[dict[tuple[str, ...], Any]] = [{} for _ in self.metrics]
        self.overflow = [0] * len(self.metrics)  # events whose labels went to `other` past max_series
        self.no_value = [0] * len(self.metrics)  # events a histogram or gauge skipped: the value was not a number
        self.disabled: dict[str, str] = {}  # metric name -> the error that disabled it

    def reloaded(self, metrics: Sequence[Metric]) -> MetricSet:
        """The set for a reloaded rule set: a metric whose definition did not change keeps its series and
        counts (Prometheus sees no reset); a changed or new one starts empty; a disabled one gets another chance."""
        fresh = MetricSet(metrics)
        old = {metric.name: index for index, metric in enumerate(self.metrics)}
        for index, metric in enumerate(fresh.metrics):
            before = old.get(metric.name)
            if before is not None and self.metrics[before].model == metric.model:
                fresh.series[index] = self.series[before]
                fresh.overflow[index], fresh.no_value[index] = self.overflow[before], self.no_value[before]
        return fresh

    def observe(self, event: Event, values: Values, picked: Sequence[int]) -> None:
        """Count or measure the event, once, in each metric one of whose picked branches holds. `picked` indexes
        `clients`, in order (a metric's branches are next to each other)."""
        plan, off = self._plan, self._off
        counted = -1
        for client in picked:
            index, branch, metric, captures, presence = plan[client]
            if index == counted or off[index]:
                continue
            if presence is not None:  # `exists: true` on a field: the pack's access metrics, on every access line
                if presence.read(event, values) is not None:
                    counted = index
                    try:
                        self._record(index, metric, event, values)
                    except Exception as error:
                        self._disable(index, error)
                continue
            scratch = dict(values) if captures else values
            try:
                if branch.test(event, scratch):
                    counted = index
                    self._record(index, metric, event, scratch)
            except Exception as error:  # the per-metric catch boundary, as the engine has per rule
                self._disable(index, error)

    def _disable(self, index: int, error: Exception) -> None:
        name = self.metrics[index].name
        self._off[index] = True
        self.disabled[name] = f"{type(error).__name__}: {error}"
        log.error("metric disabled after an error; it is off until logpipe restarts", metric=name,
                  error=self.disabled[name])  # fmt: skip

    def _record(self, index: int, metric: Metric, event: Event, values: Values) -> None:
        amount = 1.0
        if metric.value is not None:
            raw = read_field(metric.value_field, metric.value, event, values)
            number = float(raw) if type(raw) is int else _number(raw)  # access logs' durations are ints
            if number is None:
                if metric.type != "counter":
                    self.no_value[index] += 1
                    return
            else:
                amount = number * metric.scale
        labels = metric.labels
        count = len(labels)
        # a tuple built in place, not through a list: the pack's metrics have one to three labels
        if count == 1:
            key: tuple[str, ...] = (labels[0].read(event, values),)
        elif count == 2:
            key = (labels[0].read(event, values), labels[1].read(event, values))
        elif count == 3:
            key = (labels[0].read(event, values), labels[1].read(event, values), labels[2].read(event, values))
        else:
            key = tuple([label.read(event, values) for label in labels])
        series = self.series[index]
        current = series.get(key)  # one lookup for a known series, the common case
        if current is None and len(series) >= metric.max_series:
            key = (OTHER,) * len(key)
            self.overflow[index] += 1
            current = series.get(key)
        kind = metric.type
        if kind == "counter":
            series[key] = amount if current is None else current + amount
        elif kind == "gauge":
            series[key] = amount
        elif current is None:
            histogram = Histogram(len(metric.buckets) + 1)
            histogram.counts[_bucket(metric.buckets, amount)] += 1
            histogram.total += amount
            series[key] = histogram  # published complete
        else:
            histogram = cast(Histogram, current)  # compiled, a native attribute access, not a lookup by name
            histogram.counts[_bucket(metric.buckets, amount)] += 1
            histogram.total += amount


def _bucket(bounds: tuple[float, ...], amount: float) -> int:
    """bisect_left as a loop: most durations fall in the first few buckets, and compiled it needs no call."""
    index = 0
    for bound in bounds:
        if amount <= bound:
            return index
        index += 1
    return index


def _presence(branch: Condition) -> FieldTest | None:
    """The branch when it is an `exists: true` test, which observe answers by reading the field, without the
    test's check call; None for other branches."""
    return branch if isinstance(branch, FieldTest) and branch.presence and not branch.captures else None


def _status_class(raw: Any) -> str:
    if type(raw) is int:  # what the access-log extractors give: one lookup
        return _STATUS_CLASS_OF.get(raw, OTHER)
    try:
        status = int(raw)
    except (TypeError, ValueError):
        return OTHER
    return _STATUS_CLASSES.get(status // 100, OTHER)


_STATUS_CLASSES = {hundreds: f"{hundreds}xx" for hundreds in range(1, 6)}
_STATUS_CLASS_OF = {status: _STATUS_CLASSES[status // 100] for status in range(100, 600)}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _normaliser(placeholders: dict[str, str], normalisers: PathNormalisers) -> PathNormaliser:
    key = tuple(placeholders.items())
    normaliser = normalisers.get(key)
    if normaliser is None:
        normaliser = normalisers[key] = PathNormaliser(placeholders)
    return normaliser


def _compile(regex: str, path: tuple[str | int, ...]) -> re.Pattern[str]:
    try:
        pattern = re.compile(regex)
    except re.error as error:
        raise SpecError(path, f"invalid regex: {error.msg} at position {error.pos}") from None
    risky = backtracking_construct(regex)
    if risky:
        raise SpecError(path, f"regex uses {risky}, which needs a backtracking engine")
    return pattern
