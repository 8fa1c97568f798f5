"""The on-call tools' sinks on their own (the real Alertmanager and the PagerDuty contract server are in
tests/integration/test_alertmanager.py, tests/docker/test_alertmanager.py and tests/integration/test_pagerduty.py):
what an incident's notifications become, posted to a plain HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logpipe.config.load import load_config
from logpipe.errors import ConfigError
from logpipe.incidents.notification import Notification, SummaryField, SymptomTally, notification_id
from logpipe.sinks.alertmanager import AlertmanagerSink, alert_labels, label_name
from logpipe.sinks.pagerduty import PagerDutySink, pagerduty_event
from logpipe.sinks.wiring import build_sinks, renderer_for
from tests.integration.receivers import HttpReceiver

T0 = 1_795_770_189_000_000_000  # 2026-11-27T09:03:09Z
INCIDENT = "5f0c1d2e3a4b5c6d7e8f901a2b3c4d5e"


def payload(kind: str = "firing", second: int = 0, severity: str = "critical", count: int = 3, total: int = 3,
            incident: str = INCIDENT, number: int = 1) -> dict[str, Any]:  # fmt: skip
    return Notification(
        id=notification_id(incident, number, kind),
        incident=incident,
        kind=kind,
        rule="postgres-connection-errors-burst",
        title="Postgres connection errors",
        severity=severity,
        time=T0 + second * 10**9,
        group=(("db.host", "pg-main"),),
        message="connect ECONNREFUSED 10.0.0.5:5432",
        count=count,
        total=total,
        first_seen=T0 - 9 * 10**9,
        last_seen=T0 + second * 10**9,
        summary=(SummaryField("ctx.user", (("usr_a", 2),), 1, 0),),
        symptoms=(SymptomTally("unhandled-exception", "Unhandled exception", 1),),
        runbook="Check Postgres: docker logs clipforge-postgres-1",
    ).to_dict()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_incident_is_one_alert_named_by_its_rule_with_counts_in_annotations(receiver: HttpReceiver) -> None:
    clock = Clock()
    sink = AlertmanagerSink("am", [receiver.url], labels={"service": "clipforge-api"}, clock=clock)
    sink.deliver(payload())
    (request,) = receiver.wait_for(1)
    assert request.path == "/api/v2/alerts"
    (alert,) = request.json()
    assert alert["labels"] == {
        "alertname": "postgres-connection-errors-burst",
        "severity": "critical",
        "db_host": "pg-main",
        "service": "clipforge-api",
    }
    assert alert["annotations"] == {
        "title": "Postgres connection errors",
        "summary": "Postgres connection errors: 3 matches; 1 user: usr_a x2; folded in: 1 x Unhandled exception",
        "description": "connect ECONNREFUSED 10.0.0.5:5432",
        "runbook": "Check Postgres: docker logs clipforge-postgres-1",
        "incident": INCIDENT,
        "notification": "firing",
    }
    assert alert["startsAt"] == "2026-11-27T09:03:09.000000Z"
    assert alert["endsAt"] == "2033-05-18T03:37:20.000000Z"  # now + 4 x 60 s: valid for two missed re-posts


def test_an_update_changes_the_annotations_and_keeps_the_alert(receiver: HttpReceiver) -> None:
    sink = AlertmanagerSink("am", [receiver.url], clock=Clock())
    sink.deliver(payload())
    sink.deliver(payload("update", second=60, count=5, total=8, number=2))
    first, second = (request.json() for request in receiver.wait_for(2))
    assert [alert["labels"] for alert in second] == [first[0]["labels"]]
    assert second[0]["startsAt"] == first[0]["startsAt"]
    assert second[0]["annotations"]["summary"].startswith(
        "Postgres connection errors: 8 matches (5 since the previous notification)"
    )


def test_a_resolution_ends_the_alert_at_its_time_and_is_re_sent_for_15_minutes(receiver: HttpReceiver) -> None:
    clock = Clock()
    sink = AlertmanagerSink("am", [receiver.url], clock=clock)
    sink.deliver(payload())
    sink.deliver(payload("resolved", second=129, count=3, total=6, number=2))
    resolved = receiver.wait_for(2)[1].json()
    assert resolved[0]["endsAt"] == "2026-11-27T09:05:18.000000Z"
    clock.now += 14 * 60
    sink.refresh(clock.now)
    assert [alert["endsAt"] for alert in receiver.wait_for(3)[2].json()] == ["2026-11-27T09:05:18.000000Z"]
    clock.now += 2 * 60
    sink.refresh(clock.now)  # past the retention: nothing left to say
    assert sink.open_alerts() == []
    assert len(receiver.requests) == 3


def test_open_alerts_are_re_posted_once_per_resend_interval_with_a_later_end(receiver: HttpReceiver) -> None:
    clock = Clock()
    sink = AlertmanagerSink("am", [receiver.url], resend_interval=30.0, clock=clock)
    sink.deliver(payload())
    sink.refresh(clock.now)  # the first refresh sends what is open
    clock.now += 10
    sink.refresh(clock.now)  # within the interval: nothing
    clock.now += 25
    sink.refresh(clock.now)
    ends = [request.json()[0]["endsAt"] for request in receiver.wait_for(3)]
    assert len(receiver.requests) == 3
    assert ends == ["2033-05-18T03:35:20.000000Z", "2033-05-18T03:35:20.000000Z", "2033-05-18T03:35:55.000000Z"]


def test_a_higher_severity_ends_the_old_label_set_in_the_same_post(receiver: HttpReceiver) -> None:
    sink = AlertmanagerSink("am", [receiver.url], clock=Clock())
    sink.deliver(payload(severity="warning"))
    sink.deliver(payload(second=30, severity="critical", number=2))
    ended, started = receiver.wait_for(2)[1].json()
    assert (ended["labels"]["severity"], ended["endsAt"]) == ("warning", "2026-11-27T09:03:39.000000Z")
    assert (started["labels"]["severity"], started["startsAt"]) == ("critical", "2026-11-27T09:03:39.000000Z")


def test_a_restart_resumes_the_open_alerts_and_posts_them_at_once(receiver: HttpReceiver) -> None:
    clock = Clock()
    sink = AlertmanagerSink("am", [receiver.url], resume=[payload(), payload("update", 60, number=2)], clock=clock)
    assert receiver.requests == []
    sink.refresh(clock.now)
    (alert,) = receiver.wait_for(1)[0].json()
    assert alert["labels"]["alertname"] == "postgres-connection-errors-burst"
    assert alert["startsAt"] == "2026-11-27T09:03:09.000000Z"


def test_an_ha_pair_takes_the_alert_when_one_of_them_is_down(receiver: HttpReceiver) -> None:
    sink = AlertmanagerSink("am", [receiver.url, "http://127.0.0.1:9"], clock=Clock())
    sink.deliver(payload())  # no DeliveryError: one Alertmanager has it, the next re-post reaches the other
    assert len(receiver.wait_for(1)) == 1


def test_label_names_are_made_valid_and_never_override_alertname_or_severity() -> None:
    assert [label_name(n) for n in ("ctx.user", "9lives", "__name__", "ok_1")] == ["ctx_user", "_9lives", "_name__",
                                                                                  "ok_1"]  # fmt: skip
    labels = alert_labels({"rule": "r", "severity": "info", "container": "", "group": {"severity": "x", "a": ""}})
    assert labels == {"alertname": "r", "severity": "info", "group_severity": "x"}


def test_pagerduty_is_triggered_at_firing_resolved_at_resolution_and_told_nothing_else() -> None:
    trigger = pagerduty_event(payload(), "R0UTINGKEY", "host-1")
    assert trigger is not None
    assert {key: trigger[key] for key in ("routing_key", "event_action", "dedup_key", "client")} == {
        "routing_key": "R0UTINGKEY",
        "event_action": "trigger",
        "dedup_key": INCIDENT,
        "client": "logpipe",
    }
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "host-1"
    assert trigger["payload"]["custom_details"]["matches"] == 3
    assert trigger["payload"]["custom_details"]["runbook"] == "Check Postgres: docker logs clipforge-postgres-1"
    assert pagerduty_event(payload("resolved", number=2), "R0UTINGKEY", "host-1") == {
        "routing_key": "R0UTINGKEY",
        "event_action": "resolve",
        "dedup_key": INCIDENT,
    }
    assert pagerduty_event(payload("update", number=2), "K", "h") is None
    assert pagerduty_event(payload("reminder", number=2), "K", "h") is None


def test_the_routing_key_is_never_shown() -> None:
    sink = PagerDutySink("pd", "R0UTINGKEY-secret")
    assert "R0UTINGKEY" not in repr(sink)


# --- logpipe.yml -----------------------------------------------------------------------------------------------
def _config(tmp_path: Path, channels: str) -> Path:
    path = tmp_path / "logpipe.yml"
    path.write_text(f"state_dir: state\nchannels:\n{channels}")
    return path


def test_the_on_call_kinds_are_built_from_the_config(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, """\
  am: {kind: alertmanager, url: ["http://am-1:9093", "http://am-2:9093/"], resend: 30s, labels: {env: prod}}
  pd: {kind: pagerduty, routing_key: abc}
"""))  # fmt: skip
    sinks = build_sinks(config, renderer_for(config))
    assert repr(sinks["am"]) == "AlertmanagerSink('am', ['http://am-1:9093', 'http://am-2:9093/'])"
    assert isinstance(sinks["am"], AlertmanagerSink)
    assert sinks["am"].resend_interval == 30.0
    assert repr(sinks["pd"]) == "PagerDutySink('pd', 'https://events.pagerduty.com/v2/enqueue')"


@pytest.mark.parametrize(
    ("channel", "problem"),
    [
        ("{kind: pagerduty}", "a pagerduty channel needs routing_key"),
        ("{kind: alertmanager}", "a channel needs a url"),
        ("{kind: alertmanager, url: 'mailto://x'}", "a alertmanager channel's url is http:// or https://"),
        ("{url: [http://a, http://b]}", "several urls are for kind alertmanager"),
        ("{url: http://a, routing_key: k}", "`routing_key` is a field of kind pagerduty channels"),
        ("{kind: webhook, url: http://a, resend: 1m}", "`resend` is a field of kind alertmanager channels"),
    ],
)
def test_a_channel_missing_what_its_kind_needs_is_refused_at_its_line(
    tmp_path: Path, channel: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_config(tmp_path, f"  oncall: {channel}\n"))
    assert str(error.value).startswith(f"{tmp_path / 'logpipe.yml'}:3: channels.oncall: ")
    assert problem in str(error.value)
