"""What the follower counts reaches the Prometheus metrics at a report (not before), and the live view's snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prometheus_client import generate_latest

from logpipe.agent.stats import FollowStats
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


def test_a_silenced_notification_is_counted_as_made_but_not_as_sent(tmp_path: Path) -> None:
    telemetry = Telemetry()
    views: list[Snapshot] = []
    stats = FollowStats(telemetry, views.append)
    stats.notification(notification())
    stats.notification(notification(silenced="deploy window"))
    stats.report([], None, Engine(ruleset(tmp_path, RULES)), queued=0)
    assert 'logpipe_notifications_total{rule="boom",status="firing"} 2.0' in scraped(telemetry)
    assert stats.counters.notifications == 1
    assert views[0].alerts_by_rule == {"boom": 1}
