"""The shipped ClipForge pack: every rule loads, and every rule's inline examples hold (fail2ban's rule: a pattern
without sample lines is a failing test; a rule without examples does not even load)."""

from __future__ import annotations

import pytest

from logpipe.engine import load_rules
from logpipe.engine.examples import run_examples

PACK = load_rules()


@pytest.mark.parametrize("rule_id", [rule.info.id for rule in PACK.rules])
def test_rule_examples_hold(rule_id: str) -> None:
    results = [r for r in run_examples(PACK) if r.rule == rule_id]
    failures = [f"{r.expectation} example {r.number} {r.problem}: {r.line}" for r in results if not r.passed]
    assert results
    assert failures == []


def test_every_rule_has_a_runbook_and_both_kinds_of_example_where_it_can() -> None:
    for rule in PACK.rules:
        examples = rule.info.model.examples
        assert rule.info.runbook.strip(), rule.info.id
        assert examples.match, rule.info.id
        assert examples.no_match, f"{rule.info.id} has no no_match example"


@pytest.mark.parametrize("metric", [metric.name for metric in PACK.metrics])
def test_metric_examples_hold(metric: str) -> None:
    from logpipe.engine.metrics.examples import run_metric_examples

    results = [r for r in run_metric_examples(PACK) if r.metric == metric]
    assert results
    assert [problem for r in results for problem in r.problems] == []
