"""Run each metric's inline examples: given these log events, the metric exports exactly these samples. As for
rules, the events go through the prefilter and the extractors as the engine would run them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from logpipe.engine.examples import parse_example
from logpipe.engine.metrics.export import parse_sample, sample_key, samples
from logpipe.engine.metrics.model import Metric, MetricSet
from logpipe.engine.metrics.schema import MetricExample
from logpipe.engine.rules import RuleSet

SampleId = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class MetricExampleResult:
    metric: str
    number: int  # 1-based
    lines: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def run_metric_examples(ruleset: RuleSet) -> Iterator[MetricExampleResult]:
    for index, metric in enumerate(ruleset.metrics):
        for number, example in enumerate(metric.model.examples, 1):
            yield check_example(ruleset, index, metric, example, number)


def exported(ruleset: RuleSet, index: int, lines: list[str]) -> tuple[dict[SampleId, float], list[str]]:
    """The samples metric `index` exports after these examples (each one event), and what went wrong reading
    them."""
    metric = ruleset.metrics[index]
    metric_set = MetricSet(ruleset.metrics)
    mine = {client for client, (owner, _) in enumerate(metric_set.clients) if owner == index}
    problems = []
    for number, line in enumerate(lines, 1):
        events = parse_example(line)
        if len(events) != 1:
            problems.append(f"line {number} parses into {len(events)} events, not one")
        for event in events:
            values, _, picked = ruleset.select_all(event)
            metric_set.observe(event, values, [client for client in picked if client in mine])
        if metric.name in metric_set.disabled:
            problems.append(f"the metric raised {metric_set.disabled[metric.name]}")
            break
    actual = {_identify(key): value for key, value in samples(metric_set, only=metric.name).items()}
    return actual, problems


def check_example(
    ruleset: RuleSet, index: int, metric: Metric, example: MetricExample, number: int
) -> MetricExampleResult:
    actual, problems = exported(ruleset, index, example.lines)
    expected = {_identify(key): value for key, value in example.samples.items()}
    for sample, value in expected.items():
        got = actual.get(sample)
        if got is None:
            problems.append(f"expected {_show(sample)} {_number(value)}, not exported")
        elif not math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"expected {_show(sample)} {_number(value)}, exported {_number(got)}")
    # every series must be listed: a wrong label value would otherwise pass unnoticed
    listed = "_count" if metric.type == "histogram" else ""
    for sample, got in actual.items():
        if sample[0] == metric.name + listed and sample not in expected:
            problems.append(f"exported {_show(sample)} {_number(got)}, not in the example's samples")
    return MetricExampleResult(metric.name, number, tuple(example.lines), tuple(problems))


def _identify(text: str) -> SampleId:
    name, labels = parse_sample(text)
    return name, frozenset(labels.items())


def _show(sample: SampleId) -> str:
    name, labels = sample
    return sample_key(name, dict(sorted(labels)))


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
