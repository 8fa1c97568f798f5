"""The default pack against real log lines (tests/data/realworld/): each failure excerpt, replayed alone as
`logpipe replay` reads a file, reaches a rule of its category, and each negative fires nothing. The recall per
category is printed (`pytest -s`, or `python -m tests.realworld` for the misses too)."""

from __future__ import annotations

import pytest

from logpipe.engine import load_rules
from tests.realworld import NEGATIVE, RULE_CATEGORIES, Outcome, load_corpus, recall_by_category, replay_all

PACK = load_rules()
OUTCOMES = replay_all(load_corpus(), PACK)
MIN_RECALL = 0.95  # issue 17's bar, per category; negatives must all be clean


def _label(outcome: Outcome) -> str:
    return f"{outcome.item.file}#{outcome.item.number}"


def test_the_corpus_covers_every_category_with_real_sources() -> None:
    counts = {category: total for category, (_, total) in recall_by_category(OUTCOMES).items()}
    assert sum(counts.values()) >= 150
    assert {"payment-webhook", "payment-api", "postgres", "redis", "unhandled-exception", NEGATIVE} <= set(counts)
    for outcome in OUTCOMES:
        source = outcome.item.source
        assert source.startswith(("https://github.com/", "find_string:")), _label(outcome)


def test_every_rule_named_for_a_category_is_in_the_pack() -> None:
    pack_rules = {rule.info.id for rule in PACK.rules}
    assert set(RULE_CATEGORIES) <= pack_rules  # a renamed rule must not silently stop counting


def test_recall_per_category_and_no_false_alarm(capsys: pytest.CaptureFixture[str]) -> None:
    table = recall_by_category(OUTCOMES)
    with capsys.disabled():
        print()
        for category, (ok, total) in table.items():
            print(f"  realworld {category:<20} {ok:>3}/{total:<3} {100 * ok / total:5.1f} %")
    misses = {
        category: [_label(o) for o in OUTCOMES if o.item.category == category and not o.passed] for category in table
    }
    assert misses[NEGATIVE] == []  # no false alarm at all
    for category, (ok, total) in table.items():
        if category != NEGATIVE:
            assert ok / total >= MIN_RECALL, (category, misses[category])


@pytest.mark.parametrize("outcome", [o for o in OUTCOMES if o.item.category == NEGATIVE], ids=_label)
def test_each_negative_fires_nothing(outcome: Outcome) -> None:
    assert outcome.fired == frozenset(), outcome.item.text


@pytest.mark.parametrize("outcome", [o for o in OUTCOMES if o.item.category != NEGATIVE], ids=_label)
def test_each_failure_reaches_a_rule_of_its_category(outcome: Outcome) -> None:
    fired = {rule: RULE_CATEGORIES.get(rule) for rule in outcome.fired}
    assert outcome.passed, (outcome.item.category, fired, outcome.item.text)


@pytest.mark.parametrize(
    ("rule_file", "rule_id", "metric"),
    [
        ("database.yml", "postgres-connection-error", "clipforge_db_connection_errors_total"),
        ("redis.yml", "redis-connection-error", "clipforge_redis_connection_errors_total"),
    ],
)
def test_the_connection_error_counters_count_what_the_rules_match(rule_file: str, rule_id: str, metric: str) -> None:
    import yaml

    from logpipe.engine import default_rules_dir

    rules = yaml.safe_load((default_rules_dir() / rule_file).read_text(encoding="utf-8"))["rules"]
    metrics = yaml.safe_load((default_rules_dir() / "metrics.yml").read_text(encoding="utf-8"))["metrics"]
    rule_match = next(rule["match"] for rule in rules if rule["id"] == rule_id)
    metric_match = next(m["match"] for m in metrics if m["name"] == metric)
    assert metric_match == rule_match  # anchors do not cross files: a copy, kept in step by this test
