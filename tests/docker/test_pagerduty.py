"""PagerDuty's alert follows logpipe's incident across a restart: `logpipe follow` killed with -9 after it
triggered, a second process on the same state directory resolves the same alert (the same dedup_key), and the
trigger is not sent again. Against the local Events API v2 contract server (PagerDuty itself cannot run here)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_follow import follow, logged
from tests.docker.test_incidents import RULES, delivered
from tests.integration.pagerduty import EventsApi
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

ROUTING_KEY = "R0123456789abcdef0123456789abcde"


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto")
    return "json-file"


def test_a_restarted_follower_resolves_the_alert_its_killed_predecessor_triggered(
    tmp_path: Path, container: Any, events_api: EventsApi
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "payments.yml").write_text(RULES)  # stripe-webhook-signature, resolved after 8 s quiet
    (tmp_path / "logpipe.yml").write_text(
        "state_dir: state\nrules: [rules]\n"
        f"channels:\n  pagerduty: {{kind: pagerduty, url: '{events_api.url}', routing_key: '{ROUTING_KEY}'}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
    )
    go = tmp_path / "go"
    go.mkdir()
    line = "Webhook error: No signatures found matching the expected signature for usr_a"
    box = container(
        f'while [ ! -f /go/now ]; do sleep 0.1; done; echo "{line}" >&2; echo "{line}" >&2; sleep 20; echo done',
        volumes={str(go): {"bind": "/go", "mode": "ro"}},
    )
    first = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(first, "reading")
        (go / "now").write_text("")
        wait_until(lambda: delivered(tmp_path / "state" / "state.sqlite", "pagerduty") >= 1, 30, "the trigger")
        os.killpg(first.pid, signal.SIGKILL)  # the page is out; the resolution is the next process's to send
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    second = follow(tmp_path, box.name, "events.jsonl")  # until the container exits, 20 s on
    try:
        wait_until(lambda: events_api.events("resolve"), 60, "the resolution at PagerDuty")
    finally:
        second.wait(timeout=90)
    (trigger,) = events_api.events("trigger")  # not sent again by the second process
    (resolve,) = events_api.events("resolve")
    assert resolve["dedup_key"] == trigger["dedup_key"]
    (alert,) = events_api.alerts
    assert (alert.dedup_key, alert.status) == (trigger["dedup_key"], "resolved")
    assert trigger["payload"]["custom_details"]["matches"] >= 1
