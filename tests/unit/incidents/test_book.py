"""The incident book: what on-call is told, from what the rules saw. Each test states one behaviour of the
lifecycle and checks the notifications a person would receive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from logpipe.engine import Engine
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.incidents.silences import MaintenanceWindow, Silence, SilenceList
from logpipe.pipeline import run_incidents
from tests.unit.engine.helpers import HTTP_EXTRACT, SECOND, T0, access, event, notify, ruleset

SIGNATURE = """
rules:
  - id: stripe-signature
    title: Stripe webhook signature failed
    severity: critical
    runbook: check the secret
    match: {message: {contains: "No signatures found"}}
    throttle: 1m
    summary: [user]
    examples: {match: ['No signatures found for user usr_1']}
extract:
  - id: user
    from: message
    regex: '(?P<user>usr_\\w+)'
"""


def burst(times: list[int], users: list[str]) -> list:
    return [event(t, f"Webhook error: No signatures found for user {u}") for t, u in zip(times, users, strict=True)]


def shown(made: list[Notification]) -> list[tuple[int, str, int, int]]:
    return [((n.time - T0) // SECOND, n.kind, n.count, n.total) for n in made]


def test_a_burst_is_one_firing_then_updates_and_a_resolution_whose_counts_sum_to_the_matches(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, SIGNATURE))
    events = [*burst([0, 5, 10, 30, 75], ["usr_1", "usr_2", "usr_1", "usr_3", "usr_1"]), event(200, "tick")]
    made = notify(engine, events)
    # replay does not invent time: the throttle's end (60 s) is noticed at the next line (75 s), before it counts
    assert shown(made) == [(0, "firing", 1, 1), (75, "update", 3, 4), (200, "resolved", 1, 5)]
    assert sum(n.count for n in made) == 5
    assert made[-1].summary[0].text() == "3 users: usr_1 x3, usr_2 x1, usr_3 x1"
    assert len({n.id for n in made}) == 3
    assert len({n.incident for n in made}) == 1


def test_matches_after_a_quiet_period_open_a_new_incident(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, SIGNATURE))
    made = notify(engine, [*burst([0, 200], ["usr_1", "usr_2"]), event(400, "tick")])
    assert shown(made) == [(0, "firing", 1, 1), (200, "resolved", 0, 1), (200, "firing", 1, 1), (400, "resolved", 0, 1)]
    assert made[0].incident != made[2].incident


OSCILLATING = (
    HTTP_EXTRACT
    + """
rules:
  - id: error-rate
    kind: ratio
    title: error rate
    runbook: look
    base: {http.status: {exists: true}}
    match: {http.status: {gte: 500}}
    window: 10s
    evaluate_every: 10s
    min_base: 5
    thresholds: {warning: 0.05, critical: 0.30}
    keep_firing_for: 30s
    flapping: {changes: 4, evaluations: 12}
    examples: {match: ['GET /x 500 3ms']}
"""
)


def oscillating(second: int) -> int:
    """A 20 % error rate in every other 10 s until 200 s (over the 5 % warning, then clear), then none."""
    return 500 if second < 200 and (second // 10) % 2 == 0 and second % 5 == 0 else 200


def test_an_error_rate_around_its_threshold_pages_once_flaps_once_and_resolves_once(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, OSCILLATING))
    made = notify(engine, [access(s, oscillating(s)) for s in range(600)])
    # warning at 10 s; clear at 20 s, warning at 30 s ... the 4th change (40 s) makes it flapping; quiet until
    # stable for 12 evaluations (clear since 200 s: 320 s), then resolved: one incident, never a second firing
    assert [((n.time - T0) // SECOND, n.kind, n.severity) for n in made] == [
        (10, "firing", "warning"),
        (40, "flapping", "warning"),
        (320, "resolved", "warning"),
    ]
    assert len({n.incident for n in made}) == 1


def test_the_same_oscillation_live_gives_the_same_notifications(tmp_path: Path) -> None:
    """Live, time also moves by the clock between lines (the follower's idle tick): the same notifications."""
    engine = Engine(ruleset(tmp_path, OSCILLATING))
    book = IncidentBook(engine.ruleset)
    live: list[Notification] = []
    for second in range(600):
        live += book.observe_all(engine.process(access(second, oscillating(second))))
        live += book.observe_all(engine.advance(T0 + second * SECOND + SECOND // 2))  # the idle watermark
        live += book.advance(engine.watermark or 0)
    replayed = notify(Engine(ruleset(tmp_path, OSCILLATING)), [access(s, oscillating(s)) for s in range(600)])
    assert [(n.id, n.kind, n.severity) for n in live] == [(n.id, n.kind, n.severity) for n in replayed]


PENDING = OSCILLATING.replace("keep_firing_for: 30s", "keep_firing_for: 30s\n    for: 30s")


def test_a_condition_shorter_than_its_for_never_pages(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, PENDING))
    blip = [access(s, 500 if 40 <= s < 50 and s % 3 == 0 else 200) for s in range(200)]  # one evaluation
    assert notify(engine, blip) == []
    long = [access(s, 500 if 40 <= s < 120 and s % 7 == 0 else 200) for s in range(300)]  # 10-20 %
    made = notify(Engine(ruleset(tmp_path, PENDING)), long)
    assert [((n.time - T0) // SECOND, n.kind) for n in made] == [(80, "firing"), (160, "resolved")]


CAUSE = """
rules:
  - id: db-down
    kind: threshold
    title: Postgres unreachable
    severity: critical
    runbook: restart postgres
    match: {message: {contains: ECONNREFUSED}}
    count: 2
    window: 1m
    throttle: 5m
    resolve_after: 1m
    inhibits:
      - rule: exception
        when: {message: {contains: "5432"}}
    examples: {match: ['connect ECONNREFUSED 10.0.0.3:5432']}
  - id: exception
    title: Unhandled exception
    severity: warning
    runbook: read the stack
    match: {level: error}
    group_by: [message]
    group_wait: 10s
    throttle: 5m
    resolve_after: 1m
    examples: {match: ['boom']}
"""


def test_a_symptom_folds_into_its_cause_and_is_listed_on_the_cause_not_paged(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, CAUSE))
    events = [
        event(0, "query failed: connect ECONNREFUSED 10.0.0.3:5432", level="error"),  # both rules: held 10 s
        event(3, "connect ECONNREFUSED 10.0.0.3:5432"),  # the cause fires: the waiting exception folds in
        event(20, "query failed: connect ECONNREFUSED 10.0.0.3:5432", level="error"),
        event(30, "TypeError: x is undefined", level="error"),  # not DB-caused: its own incident
        event(45, "tick"),
        event(300, "tick"),
    ]
    made = [n for n in notify(engine, events) if n.folded_into is None]
    assert [(n.rule, n.kind) for n in made] == [
        ("db-down", "firing"),
        ("exception", "firing"),  # the TypeError: not DB-caused, its own incident
        ("db-down", "resolved"),
        ("exception", "resolved"),
    ]
    resolved = made[2]
    assert [(s.rule, s.count) for s in resolved.symptoms] == [("exception", 2)]


def test_a_symptom_still_matching_after_its_cause_resolved_becomes_its_own_incident(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, CAUSE))
    events = [event(0, "connect ECONNREFUSED :5432"), event(1, "connect ECONNREFUSED :5432")]
    events += [event(s, "query failed on :5432", level="error") for s in range(2, 200, 10)]  # 20 of them
    events += [event(400, "tick")]
    made = [n for n in notify(engine, events) if n.folded_into is None]
    assert [((n.time - T0) // SECOND, n.rule, n.kind, n.count, n.reason) for n in made] == [
        (1, "db-down", "firing", 2, ""),
        (62, "db-down", "resolved", 0, ""),  # a minute without ECONNREFUSED
        (62, "exception", "firing", 6, "still open after its cause resolved"),  # 2 .. 52 s: every match so far
        (400, "exception", "resolved", 14, ""),
    ]


def test_silenced_notifications_are_recorded_in_the_incident_and_not_sent(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, SIGNATURE)
    silence = Silence.new("stripe-signature", {}, 0, 2**62, "rotating the webhook secret")
    book = IncidentBook(rules, SilenceList([silence]))
    made = list(run_incidents([*burst([0, 5], ["usr_1", "usr_2"]), event(300, "tick")], Engine(rules), book))
    assert made
    assert all(n.silenced for n in made)
    (record,) = book.snapshot()
    assert record["last_outcome"].startswith(f"silence {silence.id}")
    assert record["total"] == 2


def test_a_rule_s_fixed_labels_are_on_its_incidents_for_silences_and_on_its_notifications(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, SIGNATURE.replace("    throttle: 1m", "    throttle: 1m\n    labels: {team: payments}"))
    silence = Silence.new("*", {"team": "payments"}, 0, 2**62, "payments team on a drill")
    made = list(run_incidents([*burst([0], ["usr_1"]), event(300, "tick")], Engine(rules), IncidentBook(rules)))
    assert made[0].to_dict()["labels"] == {"team": "payments"}
    book = IncidentBook(rules, SilenceList([silence]))
    held = list(run_incidents([*burst([0], ["usr_1"]), event(300, "tick")], Engine(rules), book))
    assert held
    assert all(n.silenced for n in held)


def test_a_silence_matches_on_labels_and_a_maintenance_window_recurs(tmp_path: Path) -> None:
    silence = Silence.new("*", {"container": "clipforge-api"}, 10, 20, "deploy")
    assert silence.matches("anything", {"container": "clipforge-api"})
    assert not silence.matches("anything", {"container": "clipforge-worker"})
    assert (silence.active(15), silence.active(20)) == (True, False)
    sunday_3am = MaintenanceWindow("db-upgrade", dt.time(3, 0), 3600 * SECOND, "Europe/Berlin", ("sun",))
    at = dt.datetime(2026, 11, 29, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # Sunday, Berlin time
    assert sunday_3am.active(int(at.timestamp() * 1e9))
    assert not sunday_3am.active(int((at + dt.timedelta(days=1)).timestamp() * 1e9))  # Monday


def test_a_restart_mid_incident_neither_repages_nor_loses_a_count(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, SIGNATURE)
    events = [*burst([0, 5, 10, 30, 75], ["usr_1", "usr_2", "usr_1", "usr_3", "usr_1"]), event(200, "tick")]
    whole = notify(Engine(rules), events)
    # the first run handles three lines and saves its state (as the follower does with its checkpoints)
    first_engine, first_book = Engine(rules), IncidentBook(rules)
    before = [n for e in events[:3] for n in first_book.observe_all(first_engine.process(e))]
    saved = [r for r in first_book.snapshot() if r["closed"] is None]
    # ... and is killed: the next run restores the open incidents and reads the rest
    book = IncidentBook(rules)
    book.restore(saved)
    after = [n for n in run_incidents(events[3:], Engine(rules), book) if n.reason != "end of input"]
    assert [n.id for n in before + after] == [n.id for n in whole]
    assert sum(n.count for n in before + after) == 5


def test_a_long_incident_gets_a_reminder_every_repeat_interval(tmp_path: Path) -> None:
    text = OSCILLATING.replace("keep_firing_for: 30s", "keep_firing_for: 30s\n    repeat_interval: 5m")
    events = [access(s, 500 if s % 4 == 0 else 200) for s in range(700)]  # 25 %: warning throughout
    made = notify(Engine(ruleset(tmp_path, text)), events)
    assert [((n.time - T0) // SECOND, n.kind) for n in made] == [(10, "firing"), (310, "reminder"), (610, "reminder")]
    assert made[1].value is not None
    assert made[1].value > 0.05


def test_a_symptom_in_its_group_wait_when_the_input_ends_folds_into_its_open_cause_not_paged(tmp_path: Path) -> None:
    """The input ends (a replay's last line, `follow --until-exit`) within the symptom's group_wait, after its
    cause fired: the symptom is told on the cause's resolution, not paged on its own at the end (it was: a psycopg
    AdminShutdown at a Postgres stop paged as a bug of the worker, tests/integration/test_python_worker.py)."""
    engine = Engine(ruleset(tmp_path, CAUSE))
    events = [
        event(0, "query failed: connection to :5432 terminated", level="error"),  # a symptom, before its cause
        event(1, "connect ECONNREFUSED 10.0.0.3:5432"),
        event(2, "connect ECONNREFUSED 10.0.0.3:5432"),  # the cause fires; the input ends 8 s before group_wait
    ]
    made = [n for n in notify(engine, events, finish=True) if n.folded_into is None]
    assert [(n.rule, n.kind) for n in made] == [("db-down", "firing"), ("db-down", "resolved")]
    assert [(s.rule, s.count) for s in made[-1].symptoms] == [("exception", 1)]
