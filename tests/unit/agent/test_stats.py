"""What the follower counts reaches the Prometheus metrics at a report (not before), and the live view's snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prometheus_client import generate_latest

from logpipe.agent.stats import FollowStats, read_lag
from logpipe.alert import Alert, alert_id
from logpipe.console.liveview import Snapshot
from logpipe.engine import Engine
from logpipe.event import Event, Origin
from logpipe.incidents.notification import Notification
from logpipe.telemetry import Telemetry
from tests.unit.engine.helpers import T0, ruleset

ORIGIN = Origin("docker", "api", "stdout", "c0ffee")
RULES = """
rules:
  - id: boom
    title: Boom
    runbook: Look.
    severity: critical
    match: {message: {contains: boom}}
    examples: {match: ['boom']}
"""


def notification(silenced: str | None = None) -> Notification:
    alert = Alert(
        rule="boom", title="Boom", severity="critical", status="firing", time=T0, group=(), message="boom",
        runbook="", id=alert_id("boom", (), "firing", T0, None),
    )  # fmt: skip
    return dataclasses.replace(Notification.standalone(alert), silenced=silenced)


def scraped(telemetry: Telemetry) -> str:
    return generate_latest(telemetry.registry).decode()


def test_counts_reach_the_metrics_at_a_report_and_the_view_sees_the_container(tmp_path: Path) -> None:
    telemetry = Telemetry()
    views: list[Snapshot] = []
    stats = FollowStats(telemetry, views.append)
    stats.line("api", ("api", "stdout"), T0)
    stats.line("api", ("api", "stdout"), T0 + 1)
    stats.event(Event(T0, "error", "boom", "app", {}, ORIGIN, "boom", "json", flags=("truncated",)))
    assert 'logpipe_lines_read_total{container="api",stream="stdout"} 2.0' not in scraped(telemetry)
    stats.report([], None, Engine(ruleset(tmp_path, RULES)), queued=3)
    text = scraped(telemetry)
    assert 'logpipe_lines_read_total{container="api",stream="stdout"} 2.0' in text
    assert 'logpipe_events_total{parser="json"} 1.0' in text
    assert 'logpipe_event_flags_total{flag="truncated"} 1.0' in text
    assert "logpipe_queue_depth 3.0" in text
    assert (stats.counters.lines, stats.counters.events) == ({"api": 2}, 1)
    assert views[0].containers == []  # no reader: no row (rows are the readers')


def test_notifications_are_counted_by_outcome_sent_silenced_or_folded(tmp_path: Path) -> None:
    telemetry = Telemetry()
    views: list[Snapshot] = []
    stats = FollowStats(telemetry, views.append)
    stats.notification(notification())
    stats.notification(notification(silenced="deploy window"))
    stats.notification(dataclasses.replace(notification(), folded_into="f" * 32))
    stats.report([], None, Engine(ruleset(tmp_path, RULES)), queued=0)
    text = scraped(telemetry)
    for outcome in ("sent", "silenced", "folded"):
        assert f'logpipe_notifications_total{{outcome="{outcome}",rule="boom",status="firing"}} 1.0' in text
    assert stats.counters.notifications == 2  # made and not silenced (a folded one goes to Sentry's trail)
    assert views[0].alerts_by_rule == {"boom": 1}  # the pages: not silenced, not folded


def test_read_lag_is_zero_when_caught_up_however_quiet_and_the_age_of_the_last_line_when_behind() -> None:
    minute_later = T0 + 60 * 10**9
    # (last line handled, the reader's last read reached Docker's end, newest line it handed over)
    assert read_lag(T0, True, T0, minute_later) == 0.0  # a quiet container, read to its end: not behind
    assert read_lag(T0, True, T0 + 5, minute_later) == 60.0  # read, not yet handled by the engine
    assert read_lag(T0, False, T0, minute_later) == 60.0  # its last read did not reach Docker's end
    assert read_lag(T0, False, None, minute_later) == 60.0
    assert read_lag(None, False, None, minute_later) is None  # nothing known yet
    assert read_lag(None, True, None, minute_later) == 0.0  # nothing to read
