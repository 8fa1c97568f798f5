"""The `alertmanager` channel against a real Alertmanager (Debian's prometheus-alertmanager, clustering off, on
loopback): an open incident's alert never times out while it lasts, one that is no longer re-posted does, an HA
pair both get it (a member that was down catches up at the next re-post), and a silence holds it. The bundled
outage through a live follower is tests/docker/test_alertmanager.py."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from logpipe.sinks.alertmanager import AlertmanagerSink
from tests.integration.alertmanager import Alertmanager
from tests.integration.receivers import HttpReceiver
from tests.unit.test_oncall_sinks import payload
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _ends(alert: dict[str, object]) -> float:
    return datetime.fromisoformat(str(alert["endsAt"]).replace("Z", "+00:00")).timestamp()


def test_an_open_incident_never_times_out_and_an_abandoned_one_does(alertmanager: Alertmanager) -> None:
    kept = AlertmanagerSink("am", [alertmanager.url], resend_interval=1.0)
    abandoned = AlertmanagerSink("am-2", [alertmanager.url], resend_interval=1.0, labels={"sender": "gone"})
    kept.deliver(payload())
    abandoned.deliver(payload())  # the same incident from a sender that then stops: a label set of its own
    first = wait_until(lambda: len(alertmanager.alerts()) == 2 and alertmanager.alerts(), what="both alerts")
    first_end = max(_ends(alert) for alert in first)  # 4 resend intervals ahead

    def past_the_first_end() -> list[dict[str, object]] | None:
        kept.refresh(time.time())  # what the dispatcher's thread does between deliveries
        return alertmanager.alerts() if time.time() > first_end + 1.5 else None

    # Alertmanager expires an alert on its own clock: the wait is for that clock, then for what it shows
    alerts = wait_until(past_the_first_end, what="the clock to pass the alerts' first endsAt")
    assert [alert["labels"].get("sender") for alert in alerts] == [None]  # the abandoned one expired
    (alert,) = alerts
    assert alert["status"]["state"] == "active"
    assert _ends(alert) > first_end
    assert alert["startsAt"] == "2026-11-27T09:03:09.000Z"  # still the incident's firing time


def test_an_ha_pair_both_get_the_alert_and_one_that_was_down_catches_up(
    tmp_path: Path, alertmanager: Alertmanager, http_receiver: HttpReceiver
) -> None:
    other = Alertmanager(tmp_path / "am-b", http_receiver.url + "/b")
    sink = AlertmanagerSink("am", [alertmanager.url, other.url], resend_interval=1.0)
    sink.deliver(payload())  # the second is not running yet: delivered all the same, to the first
    assert [a["labels"]["alertname"] for a in alertmanager.alerts()] == ["postgres-connection-errors-burst"]
    other.start()
    try:

        def reposted() -> list[dict[str, Any]]:
            sink.refresh(time.time())  # the dispatcher's thread does this between deliveries
            return other.alerts()

        wait_until(reposted, what="the re-post to reach the second")
        (alert,) = other.alerts()
        assert alert["annotations"]["incident"] == payload()["incident"]
    finally:
        other.stop()


def test_a_silence_in_alertmanager_holds_the_alert(alertmanager: Alertmanager, http_receiver: HttpReceiver) -> None:
    silence = alertmanager.silence({"alertname": "postgres-connection-errors-burst"})
    AlertmanagerSink("am", [alertmanager.url]).deliver(payload())
    alert = wait_until(lambda: alertmanager.alert("postgres-connection-errors-burst"), what="the alert")
    assert alert["status"] == {"inhibitedBy": [], "silencedBy": [silence], "state": "suppressed"}
    unsilenced = {**payload(incident="1" * 32), "rule": "redis-connection-errors-burst"}  # not matched: sent
    AlertmanagerSink("am-2", [alertmanager.url]).deliver(unsilenced)
    (notified,) = http_receiver.wait_for(1)
    assert [a["labels"]["alertname"] for a in notified.json()["alerts"]] == ["redis-connection-errors-burst"]
