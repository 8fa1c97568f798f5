"""Replaying the bundled ClipForge logs tells on-call what happened, once per incident, the same in every log
format: each scripted incident pages once (per severity level reached), the Postgres and Redis outages fold in
their symptoms, and every match is counted."""

from __future__ import annotations

from collections import defaultdict

import pytest

from logpipe.engine import Engine, load_rules
from logpipe.event import Origin, format_time
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.pipeline import parse_lines, run_incidents
from logpipe.sources.file import read_lines
from tests.conftest import EXAMPLES

EXPECTED = [  # (time, rule, kind, severity, count, total), in the order they are sent
    ("09:01:10", "stripe-webhook-signature", "firing", "critical", 1, 1),
    ("09:01:40", "razorpay-webhook-signature", "firing", "critical", 1, 1),
    ("09:02:00", "credit-deduction-insufficient-balance", "firing", "warning", 1, 1),
    ("09:03:00", "credit-deduction-failed", "firing", "critical", 1, 1),  # the deadlock at 09:02:30, after group_wait
    ("09:03:09", "postgres-connection-errors-burst", "firing", "critical", 3, 3),  # its single errors folded in
    ("09:04:04", "redis-connection-errors-burst", "firing", "critical", 3, 3),
    ("09:05:18", "postgres-connection-errors-burst", "resolved", "critical", 3, 6),  # 2 minutes without errors
    ("09:05:30", "unhandled-exception", "firing", "warning", 8, 8),  # the 5xx spike's TypeError, after group_wait
    ("09:05:40", "http-error-rate", "firing", "warning", 9, 9),
    ("09:06:08", "redis-connection-errors-burst", "resolved", "critical", 1, 4),
    ("09:06:10", "http-error-rate", "firing", "critical", 20, 20),  # escalation: one page per level
    ("09:07:40", "http-slow-responses", "firing", "warning", 151, 151),
    ("09:09:02", "payment-without-credits", "firing", "critical", 1, 1),  # usr_lost, not usr_ok
    ("09:13:28", "stripe-webhook-signature", "resolved", "critical", 0, 1),
    ("09:13:28", "razorpay-webhook-signature", "resolved", "critical", 0, 1),
    ("09:13:28", "credit-deduction-insufficient-balance", "resolved", "warning", 0, 1),
    ("09:13:28", "credit-deduction-failed", "resolved", "critical", 0, 1),
    ("09:13:28", "api-down", "firing", "critical", 0, 0),  # 5 minutes after the last request
    ("09:15:00", "payment-without-credits", "resolved", "critical", 0, 1),
    ("09:15:31", "unhandled-exception", "update", "warning", 22, 30),  # the throttle's end: 22 more
    ("09:15:59", "unhandled-exception", "resolved", "warning", 0, 30),  # end of input closes what is open
    ("09:15:59", "http-error-rate", "resolved", "critical", 0, 0),
    ("09:15:59", "http-slow-responses", "resolved", "warning", 25, 25),
    ("09:15:59", "api-down", "resolved", "critical", 1, 1),
]
PACK = load_rules()


def replay(name: str) -> list[Notification]:
    with (EXAMPLES / name).open("rb") as stream:
        return list(
            run_incidents(parse_lines(read_lines(stream, Origin("file", name))), Engine(PACK), IncidentBook(PACK))
        )


@pytest.mark.parametrize("name", ["clipforge-api-text.log", "clipforge-api-json.log", "clipforge-api-pino.log"])
def test_replay_pages_each_incident_once(name: str) -> None:
    made = replay(name)
    sent = [n for n in made if n.folded_into is None]
    assert [(format_time(n.time)[11:19], n.rule, n.kind, n.severity, n.count, n.total) for n in sent] == EXPECTED
    sequence = next(n for n in sent if n.rule == "payment-without-credits")
    assert sequence.group == (("user", "usr_lost"),)
    # 4xx responses are never errors, and the lone 4.7 s request at 09:06:30 is not "slow responses"
    assert next(n.time for n in sent if n.rule == "http-slow-responses") > sent[10].time


def test_the_postgres_outage_is_one_incident_with_its_symptoms_folded_in() -> None:
    made = replay("clipforge-api-json.log")
    postgres = [n for n in made if n.rule == "postgres-connection-errors-burst"]
    assert [n.kind for n in postgres] == ["firing", "resolved"]
    assert len({n.incident for n in postgres}) == 1
    symptoms = {s.rule: s.count for s in postgres[-1].symptoms}
    assert symptoms == {"postgres-connection-error": 6, "unhandled-exception": 1}
    # the symptoms reach Sentry only, as breadcrumbs on the cause's trail
    folded = [n for n in made if n.folded_into == postgres[0].incident]
    assert {(n.rule, n.sentry, n.actions) for n in folded} == {
        ("postgres-connection-error", "breadcrumb", ("sentry",)),
        ("unhandled-exception", "breadcrumb", ("sentry",)),
    }


def test_every_incident_counts_add_up_to_its_total() -> None:
    by_incident: dict[str, list[Notification]] = defaultdict(list)
    for notification in replay("clipforge-api-text.log"):
        if notification.folded_into is None:
            by_incident[notification.incident].append(notification)
    counted = {"every", "threshold", "sequence"}
    for notifications in by_incident.values():
        rule = PACK.rule(notifications[0].rule)
        assert notifications[0].kind == "firing"
        assert notifications[-1].kind == "resolved"
        if rule.info.model.kind in counted:
            assert sum(n.count for n in notifications) == notifications[-1].total
        firing_levels = [n.severity for n in notifications if n.kind == "firing"]
        assert len(firing_levels) == len(set(firing_levels))  # never a second page at one level
