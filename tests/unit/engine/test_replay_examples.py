"""Replaying the bundled ClipForge logs fires each scripted incident once, the same in every log format."""

from __future__ import annotations

import pytest

from logpipe.engine import Engine, load_rules
from logpipe.event import Origin, format_time
from logpipe.pipeline import parse_lines, run_rules
from logpipe.sources.file import read_lines
from tests.conftest import EXAMPLES

EXPECTED = [  # (time, rule, status, severity), in the order they fire
    ("09:01:10", "stripe-webhook-signature", "firing", "critical"),
    ("09:01:40", "razorpay-webhook-signature", "firing", "critical"),
    ("09:02:00", "credit-deduction-insufficient-balance", "firing", "warning"),
    ("09:02:30", "credit-deduction-failed", "firing", "critical"),
    ("09:03:03", "postgres-connection-error", "firing", "warning"),
    ("09:03:09", "postgres-connection-errors-burst", "firing", "critical"),
    ("09:03:17", "unhandled-exception", "firing", "warning"),  # "Connection terminated unexpectedly"
    ("09:04:00", "redis-connection-error", "firing", "warning"),
    ("09:04:04", "redis-connection-errors-burst", "firing", "critical"),
    ("09:04:07", "render-queue-error", "firing", "warning"),
    ("09:05:00", "unhandled-exception", "firing", "warning"),  # the 5xx spike's TypeError, once for 50 of them
    ("09:05:40", "http-error-rate", "firing", "warning"),
    ("09:06:10", "http-error-rate", "firing", "critical"),  # escalation
    ("09:07:40", "http-slow-responses", "firing", "warning"),
    ("09:09:02", "payment-without-credits", "firing", "critical"),  # usr_lost, not usr_ok
    ("09:13:28", "api-down", "firing", "critical"),  # 5 minutes after the last request
    ("09:15:01", "api-down", "resolved", "critical"),
    ("09:15:40", "http-error-rate", "resolved", "critical"),
    ("09:15:40", "http-slow-responses", "resolved", "warning"),
]
PACK = load_rules()


@pytest.mark.parametrize("name", ["clipforge-api-text.log", "clipforge-api-json.log", "clipforge-api-pino.log"])
def test_replay_fires_each_incident_once(name: str) -> None:
    with (EXAMPLES / name).open("rb") as stream:
        alerts = list(run_rules(parse_lines(read_lines(stream, Origin("file", name))), Engine(PACK)))
    assert [(format_time(a.time)[11:19], a.rule, a.status, a.severity) for a in alerts] == EXPECTED
    sequence = next(a for a in alerts if a.rule == "payment-without-credits")
    assert sequence.group == (("user", "usr_lost"),)
    # 4xx responses are never errors, and the lone 4.7 s request at 09:06:30 is not "slow responses"
    assert not any(a.rule == "http-slow-responses" and a.time < alerts[13].time for a in alerts)
