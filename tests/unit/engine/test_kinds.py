"""Each rule kind on event time: what the engine reports (every match, each window's level), and what people are
told once the incident book has made notifications of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpipe.engine import Engine
from logpipe.engine.conditions import FieldTest
from logpipe.engine.engine import DISABLED_RULE
from logpipe.engine.kinds.base import GROUP_LIMIT_RULE
from logpipe.incidents.book import IncidentBook
from tests.unit.engine.helpers import HTTP_EXTRACT, SECOND, T0, access, event, notify, ruleset, run

EVERY = """
rules:
  - id: db-down
    title: DB down
    severity: critical
    runbook: restart postgres
    match: {text: {regex: 'ECONNREFUSED \\S+:(?P<port>5432)'}}
    group_by: [container]
    throttle: 10m
    examples: {match: ['connect ECONNREFUSED 1.2.3.4:5432']}
"""


def test_every_match_is_reported_by_the_engine_once(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, EVERY))
    flood = [event(s, "connect ECONNREFUSED 10.0.0.3:5432") for s in range(0, 30, 3)]
    alerts = [alert for e in flood for alert in engine.process(e)]
    assert [a.count for a in alerts] == [1] * 10
    assert alerts[0].data == {"port": 5432}
    assert alerts[0].group == (("container", "clipforge-api"),)


def test_every_match_flood_is_one_page_then_an_update_per_throttle_and_counts_add_up(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, EVERY))
    flood = [event(s, "connect ECONNREFUSED 10.0.0.3:5432") for s in range(0, 900, 3)]  # 15 min, every 3 s
    made = notify(engine, flood, finish=True)
    assert [((n.time - T0) // SECOND, n.kind, n.count, n.total) for n in made] == [
        (0, "firing", 1, 1),
        (600, "update", 199, 200),  # the matches of the throttle period (3 s to 597 s)
        (897, "resolved", 100, 300),  # end of input: the rest
    ]
    assert sum(n.count for n in made) == len(flood)
    assert len({n.incident for n in made}) == 1


def test_every_match_new_incident_after_a_quiet_throttle_period(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, EVERY))
    times = [0, 60, 60 + 601]  # the third comes after 10 min of quiet: a new incident, nothing carried
    made = notify(engine, [event(s, "connect ECONNREFUSED 10.0.0.3:5432") for s in times])
    assert [((n.time - T0) // SECOND, n.kind, n.count, n.total) for n in made] == [
        (0, "firing", 1, 1),
        (661, "resolved", 1, 2),  # quiet since 60 s: the match at 60 s is reported with the resolution
        (661, "firing", 1, 1),
    ]
    assert made[0].incident == made[1].incident != made[2].incident


def test_non_matching_lines_never_fire(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, EVERY))
    assert run(engine, [event(1, "connect ECONNREFUSED 10.0.0.3:6379"), event(2, "all good")]) == []


THRESHOLD = """
rules:
  - id: burst
    kind: threshold
    title: burst
    runbook: look
    match: {message: {contains: "Retrying"}}
    group_by: [logger]
    count: 3
    window: 1m
    throttle: 10m
    examples: {match: ['Unable to connect. Retrying (1)...']}
"""


def test_threshold_fires_at_the_nth_match_in_window_per_group(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, THRESHOLD))
    events = [
        event(0, "Retrying (1)", logger="TypeOrm"),
        event(50, "Retrying (2)", logger="TypeOrm"),
        event(70, "Retrying (3)", logger="TypeOrm"),  # the first fell out of the 1 m window
        event(71, "Retrying (1)", logger="Prisma"),
        event(75, "Retrying (4)", logger="TypeOrm"),
        event(80, "Retrying (5)", logger="TypeOrm"),  # the threshold still holds: one more match
    ]
    alerts = [a for e in events for a in engine.process(e)]
    assert [((a.time - T0) // SECOND, a.group, a.count) for a in alerts] == [
        (75, (("logger", "TypeOrm"),), 3),  # the three in the window, each reported once
        (80, (("logger", "TypeOrm"),), 1),
    ]


RATIO = (
    HTTP_EXTRACT
    + """
rules:
  - id: error-rate
    kind: ratio
    title: error rate
    runbook: look
    base: {http.status: {exists: true}}
    match: {http.status: {gte: 500}}
    window: 1m
    evaluate_every: 10s
    min_base: 10
    thresholds: {warning: 0.05, critical: 0.10}
    examples: {match: ['GET /x 500 3ms']}
"""
)


def traffic(start: int, end: int, every: float, failing: float, status: int = 500) -> list:
    out, fails, t = [], 0.0, float(start)
    while t < end:
        fails += failing
        code = status if fails >= 1 else 200
        fails -= code == status
        out.append(access(t, code))
        t += every
    return out


def test_ratio_escalates_then_resolves_and_4xx_never_count(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, RATIO))
    events = (
        traffic(0, 60, 1, 0.5, status=404)
        + traffic(60, 120, 1, 0.07)
        + traffic(120, 180, 1, 0.2)
        + traffic(180, 300, 1, 0.0)
    )
    # 500s at 74, 88, 102, 117, then every 5 s from 124 to 179; windows are [T-60 s, T):
    # T=110: 3/60 = 5.0 % (not above 5 %); T=120: 4/60 = 6.7 % -> warning; T=130: 6/60 = 10.0 % (not above 10 %);
    # T=140: 7/60 = 11.7 % -> critical; T=220: 4/60 still above 5 % (quietly back to warning); T=230: 2/60 clear,
    # and still clear a minute later (keep_firing_for) -> resolved at 290, at the highest level it reached
    assert run(engine, events) == [
        (120, "error-rate", "firing", "warning"),
        (140, "error-rate", "firing", "critical"),
        (290, "error-rate", "resolved", "critical"),
    ]


def test_ratio_needs_its_minimum_base(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, RATIO))
    assert run(engine, traffic(0, 60, 10, 1.0)) == []  # 6 requests, all failing: too few to judge


AGGREGATE = (
    HTTP_EXTRACT
    + """
rules:
  - id: slow
    kind: aggregate
    title: slow
    runbook: look
    match: {http.duration_ms: {exists: true}}
    value: http.duration_ms
    function: p95
    window: 5m
    min_count: 20
    above: 5000
    examples: {match: ['GET /x 200 6000ms']}
"""
)


def test_p95_over_the_limit_fires_once_and_a_single_slow_request_does_not(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, AGGREGATE))
    events = [access(t, 200, 4700 if t == 100 else 40) for t in range(0, 300, 2)]  # one 4.7 s request
    events += [access(t, 200, 6000 if t % 4 == 0 else 40) for t in range(300, 400, 2)]  # half slow
    events += [access(t, 200, 40) for t in range(400, 800, 2)]
    # 150 values per 5 m window; p95 is the value at rank 0.95 * 149 = 141.55. T=330: 8 slow, 142 fast -> fast;
    # T=340: 10 slow -> slow, fires. T=660: 10 slow values (360-396) still in [360, 660); T=670: 7 -> clear,
    # and still clear a minute later (keep_firing_for): resolved at 730
    assert run(engine, events) == [(340, "slow", "firing", "warning"), (730, "slow", "resolved", "warning")]


ABSENCE = (
    HTTP_EXTRACT
    + """
rules:
  - id: api-down
    kind: absence
    title: down
    severity: critical
    runbook: restart
    match: {http.status: {exists: true}}
    window: 5m
    examples: {match: ['GET /x 200 3ms']}
"""
)


def test_absence_fires_during_silence_on_the_idle_watermark_and_resolves(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, ABSENCE))
    book = IncidentBook(engine.ruleset)
    made = [n for t in range(0, 100, 2) for n in book.observe_all(engine.process(access(t, 200)))]
    for idle in range(100, 600, 1):  # nothing arrives: the live pipeline advances the watermark with the clock
        made += book.observe_all(engine.advance(T0 + idle * SECOND))
        made += book.advance(T0 + idle * SECOND)
    made += book.observe_all(engine.process(access(600, 200)))
    for after in range(601, 700):
        made += book.observe_all(engine.advance(T0 + after * SECOND))
        made += book.advance(T0 + after * SECOND)
    # the last request at 98 s: the window ran empty at 398 s; back at 600 s, clear for a minute at 661 s
    assert [((n.time - T0) / SECOND, n.kind) for n in made] == [(398.0, "firing"), (661.0, "resolved")]


def test_absence_does_not_fire_before_a_whole_window_was_seen(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, ABSENCE))
    assert run(engine, [event(0, "starting"), event(200, "still booting")]) == []


SEQUENCE = """
rules:
  - id: paid-no-credits
    kind: sequence
    title: paid, no credits
    severity: critical
    runbook: grant by hand
    match: {message: {regex: 'Payment accepted for user (?P<user>usr_\\w+)'}}
    then: {message: {regex: 'Credits granted to user (?P<user>usr_\\w+)'}}
    key: [user]
    within: 60s
    examples: {match: ['Payment accepted for user usr_1']}
"""


def test_sequence_fires_only_for_the_key_without_its_follow_up(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, SEQUENCE))
    events = [
        event(0, "Payment accepted for user usr_ok"),
        event(1, "Payment accepted for user usr_lost"),
        event(30, "Credits granted to user usr_ok: +100"),
        event(120, "tick"),
    ]
    alerts = [a for e in events for a in engine.process(e)]
    assert [((a.time - T0) / SECOND, a.group) for a in alerts] == [(61.0, (("user", "usr_lost"),))]


def test_a_rule_that_raises_is_disabled_and_reported_and_others_go_on(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, EVERY + THRESHOLD.replace("rules:\n", ""))
    engine = Engine(rules)

    def broken(value: object, values: object) -> bool:
        raise ZeroDivisionError("boom")

    live = engine.rule("db-down")
    assert live is not None
    live.match = FieldTest("message", broken, "a check that raises", None)
    alerts = [a for s in (0, 1, 2) for a in engine.process(event(s, "ECONNREFUSED 1.2.3.4:5432 Retrying"))]
    assert [(a.rule, a.status) for a in alerts] == [(DISABLED_RULE, "firing"), ("burst", "firing")]
    assert engine.disabled == {"db-down": "ZeroDivisionError: boom"}


def test_same_input_gives_the_same_notification_ids(tmp_path: Path) -> None:
    events = [event(s, "connect ECONNREFUSED 10.0.0.3:5432") for s in (0, 700)]
    first = [n.id for n in notify(Engine(ruleset(tmp_path, EVERY)), events, finish=True)]
    again = [n.id for n in notify(Engine(ruleset(tmp_path, EVERY)), events, finish=True)]
    assert first == again
    assert len(set(first)) == 4  # two incidents, each fired and resolved
    assert all(len(i) == 32 for i in first)


@pytest.mark.parametrize("count", [200])
def test_prefilter_with_many_rules_picks_exactly_the_matching_ones(tmp_path: Path, count: int) -> None:
    rules = "rules:\n" + "".join(
        f"""  - id: r{i}
    title: r{i}
    runbook: x
    match: {{message: {{contains: "token{i:03d}x"}}}}
    examples: {{match: ['token{i:03d}x']}}
"""
        for i in range(count)
    )
    loaded = ruleset(tmp_path, rules)
    candidates = loaded.candidates(event(0, "a TOKEN007X and token123x here"))
    assert [loaded.rules[i].info.id for i in candidates] == ["r123"]


def test_groups_past_the_limit_are_counted_and_said_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("logpipe.engine.kinds.base.MAX_GROUPS", 3)  # what the group-limit alert says
    monkeypatch.setattr("logpipe.engine.kinds.ratio.MAX_GROUPS", 3)
    by_path = RATIO.replace("min_base: 10", "min_base: 10\n    group_by: [http.path]")
    engine = Engine(ruleset(tmp_path, by_path))
    events = [event(i, f"GET /p{i} 500 3ms") for i in range(6)]  # six paths: three tracked, three refused
    alerts = [a for e in events for a in engine.process(e)]
    assert [(a.rule, a.group) for a in alerts] == [(GROUP_LIMIT_RULE, (("rule", "error-rate"),))]
    live = engine.rule("error-rate")
    assert live is not None
    assert live.overflowed == 3
