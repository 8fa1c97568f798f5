"""The prefilter only saves work: with it, every rule and metric sees exactly what it would see if every event
were tried against every rule and every regex ran. Checked over the bundled examples (three formats), the
real-world corpus and the planted failures of the rule pack's own examples, comparing notifications (with their
counts and data) and the metrics' series."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pytest

from logpipe.engine import Engine, RuleSet, load_rules
from logpipe.engine.metrics.model import MetricSet
from logpipe.event import Event, Origin
from logpipe.incidents.book import IncidentBook
from logpipe.pipeline import parse_lines, read_ahead, run_incidents
from logpipe.sources.file import read_lines
from tests.conftest import EXAMPLES
from tests.realworld import load_corpus


def unfiltered(ruleset: RuleSet) -> RuleSet:
    """The same rules with no prefilter: every event tried against every rule and metric, every regex run."""
    return RuleSet(ruleset.loaded, ruleset.extractors, ruleset.metrics, exhaustive=True)


def outcome(
    ruleset: RuleSet, log: bytes, batched: bool = False
) -> tuple[list[dict[str, object]], list[dict[tuple[str, ...], object]]]:
    """What the log makes: notifications and metric series. `batched`: the events scanned a batch at a time, as a
    replay does (pipeline.read_ahead), not one by one, as a follower does."""
    metrics = MetricSet(ruleset.metrics)
    engine = Engine(ruleset, metrics=metrics)
    events: Iterable[Event] = parse_lines(read_lines(io.BytesIO(log), Origin("file", "corpus.log")))
    if batched:
        events = read_ahead(events, engine)
    notifications = [item.to_dict() for item in run_incidents(events, engine, IncidentBook(ruleset))]
    series = [
        {key: (value if isinstance(value, float) else (list(value.counts), value.total)) for key, value in s.items()}
        for s in metrics.series
    ]
    return notifications, series


def corpora() -> list[tuple[str, bytes]]:
    logs = [(path.name, path.read_bytes()) for path in sorted(EXAMPLES.glob("*.log"))]
    # one excerpt a second, each with `docker logs --timestamps`' prefix: the clock stamps no line
    realworld = "\n".join(
        f"2026-11-27T09:{n // 60:02d}:{n % 60:02d}.000000000Z {item.text.replace(chr(10), ' ')}"
        for n, item in enumerate(load_corpus())
    )
    logs.append(("realworld", realworld.encode()))
    return logs


@pytest.mark.parametrize(("name", "log"), corpora(), ids=[name for name, _ in corpora()])
def test_the_prefilter_changes_no_notification_and_no_metric(name: str, log: bytes) -> None:
    filtered = outcome(load_rules(), log)
    everything = outcome(unfiltered(load_rules()), log)
    # the corpora fire rules and fill metrics: not two nothings
    assert len(filtered[0]) >= 5
    assert any(filtered[1])
    assert filtered == everything
    # one scan over a batch of texts (a match across two joined texts) finds what one scan per text finds
    assert outcome(load_rules(), log, batched=True) == everything


def test_a_batch_scan_finds_each_pattern_in_the_texts_it_is_in() -> None:
    """The joined scan finds in each text what its own scan finds: at a text's start and end (`^`, `$`), at the
    join of two texts, in a stack trace's lines, and in non-ASCII texts, whose byte offsets differ."""
    ruleset = load_rules()
    texts = [
        "GET /api/v1/clips 200 3ms",
        "connect ECONNREFUSED 10.0.0.3:5432",
        "",
        "Error: boom\n    at Object.<anonymous> (/app/dist/main.js:1:1)",
        "Zahlung fehlgeschlagen für usr_ä: ECONNREFUSED 10.0.0.3:6379",
        "ECONNREFUSED",
        "Unhandled rejection",
    ]
    scanner = ruleset.prefilter._scanner
    assert scanner is not None
    alone = [sorted(scanner.scan(text.encode())) for text in texts]
    together = ruleset.prefilter.scan_texts(texts)
    assert together is not None
    # never fewer (a miss would skip a rule); more only where a match spans a join (a wider prefilter, still exact)
    assert all(set(mine) <= set(found) for mine, found in zip(alone, together, strict=True))
    assert any(alone)  # the texts hold patterns: not a comparison of nothings


def test_a_skipped_regex_still_runs_where_its_pattern_is(tmp_path: Path) -> None:
    """An `any:` of a field test and a text regex cannot be prefiltered as a whole; its regex branch is skipped on
    lines without the pattern and still matches (and captures) on lines with it."""
    (tmp_path / "rules.yml").write_text(
        "rules:\n"
        "  - id: paid\n"
        "    title: paid\n"
        "    match:\n"
        "      any:\n"
        "        - payment.outcome: failed\n"
        "        - message: {regex: 'Payment (?P<verdict>failed): (?P<user>usr_\\w+)'}\n"
        "    group_by: [user]\n"
        "    runbook: none\n"
        "    examples: {match: ['Payment failed: usr_b'], no_match: ['Payment ok: usr_b']}\n"
    )
    ruleset = load_rules([tmp_path / "rules.yml"])
    log = (
        b'{"level":"info","timestamp":1795770000000,"message":"GET /api/v1/clips 200 3ms"}\n'
        b'{"level":"warn","timestamp":1795770001000,"message":"Payment failed: usr_a (card_declined)"}\n'
        b'{"level":"info","timestamp":1795770002000,"message":"checkout","payment":{"outcome":"failed"}}\n'
    )
    notifications, _ = outcome(ruleset, log)
    groups = sorted(str(item["group"]) for item in notifications if item["status"] == "firing")
    assert groups == ["{'user': ''}", "{'user': 'usr_a'}"]
    assert outcome(unfiltered(load_rules([tmp_path / "rules.yml"])), log)[0] == notifications


def test_rules_reading_fields_an_event_lacks_are_not_tried() -> None:
    """A test false on a missing field needs that field: an access line is tried against the HTTP rules (their
    http.* fields come from the access-log extractor), not the probe or payment-outcome rules, and a probe
    reading is tried against the probe rules."""
    pack = load_rules()

    def tried(line: bytes) -> set[str]:
        (event,) = parse_lines(read_lines(io.BytesIO(line), Origin("file", "x")))
        return {pack.rules[index].info.id for index in pack.candidates(event)}

    access = tried(b'{"level":"log","timestamp":1795770000000,"message":"GET /api/v1/clips 200 3ms","context":"HTTP"}')
    assert {"http-error-rate", "http-slow-responses"} <= access
    assert not access & {"database-down-probe", "payment-success-rate-low", "signups-low"}
    probe = tried(b'{"level":"info","logger":"probe","msg":"probe api","probe":{"name":"api","components":{}}}')
    assert "database-down-probe" in probe
    assert "http-error-rate" not in probe
