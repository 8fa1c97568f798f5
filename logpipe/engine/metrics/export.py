"""A MetricSet as Prometheus sees it: a prometheus-client collector (registered beside logpipe's own metrics in
`logpipe follow --metrics-address`), the text exposition (`logpipe metrics FILE`), and the samples as a flat
mapping `name{label="value"}` -> value, which metric examples are checked against."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from logpipe.engine.metrics.model import Histogram, MetricSet
from logpipe.engine.metrics.model import Metric as MetricDefinition


class MetricSetCollector(Collector):
    """Reads the MetricSet `current()` returns at each scrape (a follower's engine swaps it on a rule reload)."""

    def __init__(self, current: Callable[[], MetricSet | None]) -> None:
        self.current = current

    def collect(self) -> Iterator[Metric]:
        metric_set = self.current()
        if metric_set is None:
            return
        # each dict(...) and list(...) is one C-level copy, atomic under the GIL while the engine thread writes
        snapshot: list[tuple[MetricDefinition, dict[tuple[str, ...], Any]]] = [
            (metric, {key: _copy(value) for key, value in dict(series).items()})
            for metric, series in zip(metric_set.metrics, metric_set.series, strict=True)
        ]
        overflow, no_value = list(metric_set.overflow), list(metric_set.no_value)
        for metric, series in snapshot:
            names = list(metric.label_names)
            family: Metric
            if metric.type == "counter":
                family = CounterMetricFamily(metric.name, metric.help, labels=names)
                for key, value in sorted(series.items()):
                    family.add_metric(list(key), value)
            elif metric.type == "gauge":
                family = GaugeMetricFamily(metric.name, metric.help, labels=names)
                for key, value in sorted(series.items()):
                    family.add_metric(list(key), value)
            else:
                family = HistogramMetricFamily(metric.name, metric.help, labels=names)
                bounds = [*(_go_float(bound) for bound in metric.buckets), "+Inf"]
                for key, histogram in sorted(series.items()):
                    cumulative, buckets = 0, []
                    for bound, count in zip(bounds, histogram.counts, strict=True):
                        cumulative += count
                        buckets.append((bound, float(cumulative)))
                    family.add_metric(list(key), buckets, histogram.total)
            yield family
        if metric_set.metrics:
            overflowed = CounterMetricFamily(
                "logpipe_metric_overflow",
                "Events whose labels went to `other` because the metric had reached its max_series",
                labels=["metric"],
            )
            skipped = CounterMetricFamily(
                "logpipe_metric_no_value",
                "Events a histogram or gauge matched but skipped: their value field was not a number",
                labels=["metric"],
            )
            for metric, over, missing in zip(metric_set.metrics, overflow, no_value, strict=True):
                overflowed.add_metric([metric.name], float(over))
                skipped.add_metric([metric.name], float(missing))
            yield overflowed
            yield skipped


def _go_float(bound: float) -> str:
    text: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
    return text


def _copy(value: Any) -> Any:
    if isinstance(value, Histogram):
        copied = Histogram(len(value.counts))
        copied.counts, copied.total = list(value.counts), value.total  # a bucket may lead its sum by an event
        return copied
    return value


def exposition(metrics: MetricSet) -> bytes:
    """The Prometheus text format (0.0.4) of the metrics, as `/metrics` serves them."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MetricSetCollector(lambda: metrics))
    return generate_latest(registry)


def samples(metrics: MetricSet, only: str | None = None) -> dict[str, float]:
    """Every sample as `name{label="value",...}` (labels in definition order, `le` last) -> value; `only`: of
    the metric of that name."""
    out: dict[str, float] = {}
    for family in MetricSetCollector(lambda: metrics).collect():
        if only is not None and family.name not in (only, only.removesuffix("_total")):
            continue
        for sample in family.samples:
            out[sample_key(sample.name, sample.labels)] = sample.value
    return out


def sample_key(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return f"{name}{{{inner}}}"


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?$")
_LABEL = re.compile(r'\s*(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_sample(text: str) -> tuple[str, dict[str, str]]:
    """`name{a="1",b="2"}` -> ("name", {"a": "1", "b": "2"}); ValueError names what is wrong."""
    found = _SAMPLE.match(text.strip())
    if found is None:
        raise ValueError(f'{text!r} is not a sample: write name{{label="value",...}}')
    labels: dict[str, str] = {}
    rest = found.group("labels") or ""
    position = 0
    while position < len(rest):
        label = _LABEL.match(rest, position)
        if label is None or label.end() == position:
            raise ValueError(f'{text!r}: cannot read the labels from {rest[position:]!r} (label="value")')
        labels[label.group("key")] = label.group("value").replace('\\"', '"').replace("\\\\", "\\")
        position = label.end()
    return found.group("name"), labels


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
