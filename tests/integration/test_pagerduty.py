"""The `pagerduty` channel against a local server implementing PagerDuty's documented Events API v2 contract
(tests/integration/pagerduty.py; PagerDuty itself cannot run here): a replay triggers at firing and resolves at
resolution under the incident id, a 429 is retried no sooner than PagerDuty's 30 s (or its Retry-After), a 5xx
is retried, an invalid event is dead-lettered. Across a restart of `logpipe follow`: tests/docker/test_pagerduty.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logpipe.redact import Redactor
from logpipe.sinks.dispatcher import Dispatcher, RetryPolicy
from logpipe.sinks.pagerduty import RATE_LIMIT_WAIT, PagerDutySink
from logpipe.state.store import StateStore
from tests.conftest import ROOT
from tests.integration.pagerduty import EventsApi
from tests.unit.test_sinks import notification

pytestmark = pytest.mark.integration

ROUTING_KEY = "R0123456789abcdef0123456789abcde"  # 32 characters, as PagerDuty's integration keys


def test_a_replay_triggers_each_page_and_resolves_it_under_the_incident_id(
    tmp_path: Path, events_api: EventsApi
) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text(
        "state_dir: state\n"
        f"channels:\n  pagerduty: {{kind: pagerduty, url: '{events_api.url}', routing_key: '{ROUTING_KEY}'}}\n"
        "routes: {critical: [pagerduty], warning: [pagerduty]}\n"
    )
    replay = subprocess.run(
        [sys.executable, "-m", "logpipe", "replay", str(ROOT / "examples" / "clipforge-api-text.log"),
         "--config", str(config), "--format", "jsonl"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-2000:]
    told = [json.loads(line) for line in replay.stdout.splitlines()]
    fired = [n["incident"] for n in told if n["status"] == "firing"]  # an escalation fires again: same dedup_key
    resolved = [n["incident"] for n in told if n["status"] == "resolved"]
    assert any(n["status"] == "update" for n in told)  # not sent: PagerDuty's alert already says it is open
    assert [event["dedup_key"] for event in events_api.events("trigger")] == fired
    assert [event["dedup_key"] for event in events_api.events("resolve")] == resolved
    assert events_api.events("acknowledge") == []
    assert sorted(alert.dedup_key for alert in events_api.alerts) == sorted(set(fired))
    assert {alert.status for alert in events_api.alerts} == {"resolved"}  # every page closed when its incident did
    postgres = next(
        e for e in events_api.events("trigger") if e["payload"]["class"] == "postgres-connection-errors-burst"
    )
    assert postgres["payload"]["severity"] == "critical"
    assert postgres["payload"]["custom_details"]["matches"] == 3
    assert postgres["payload"]["custom_details"]["runbook"]
    assert ROUTING_KEY not in replay.stdout + replay.stderr


def _outbox(tmp_path: Path, sink: PagerDutySink) -> Dispatcher:
    store = StateStore(tmp_path / "state.db")
    return Dispatcher(store, {sink.name: sink}, lambda n: [sink.name], Redactor(), RetryPolicy(initial=1.0, jitter=0.0))


def test_a_rate_limited_event_is_retried_30_seconds_later_and_then_taken(tmp_path: Path, events_api: EventsApi) -> None:
    events_api.fail_next.append((429, {}))
    outbox = _outbox(tmp_path, PagerDutySink("pd", ROUTING_KEY, events_api.url))
    page = notification()
    outbox.enqueue(page)
    now = time.time()
    assert outbox.deliver_due("pd", now) == 1
    assert events_api.answers == [429]
    retry_at = outbox.store.outbox.next_due("pd")
    assert retry_at is not None
    assert retry_at - now >= RATE_LIMIT_WAIT  # not the outbox's 1 s: PagerDuty asks for 30 s between retries
    assert outbox.deliver_due("pd", now + RATE_LIMIT_WAIT - 1) == 0  # paused until then
    assert outbox.deliver_due("pd", retry_at) == 1
    assert events_api.answers == [429, 202]
    assert [event["dedup_key"] for event in events_api.events("trigger")] == [page.incident]


def test_a_retry_after_longer_than_30_seconds_is_honoured(tmp_path: Path, events_api: EventsApi) -> None:
    events_api.fail_next.append((429, {"Retry-After": "120"}))
    outbox = _outbox(tmp_path, PagerDutySink("pd", ROUTING_KEY, events_api.url))
    outbox.enqueue(notification())
    now = time.time()
    outbox.deliver_due("pd", now)
    retry_at = outbox.store.outbox.next_due("pd")
    assert retry_at is not None
    assert retry_at - now >= 119


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried_until_the_event_is_taken(tmp_path: Path, events_api: EventsApi, status: int) -> None:
    events_api.fail_next.extend([(status, {}), (status, {})])
    outbox = _outbox(tmp_path, PagerDutySink("pd", ROUTING_KEY, events_api.url))
    outbox.enqueue(notification())
    for _ in range(3):
        retry_at = outbox.store.outbox.next_due("pd")
        assert retry_at is not None
        outbox.deliver_due("pd", retry_at + 0.001)
    assert events_api.answers == [status, status, 202]
    assert outbox.store.outbox.counts() == {("pd", "delivered"): 1}


def test_an_invalid_event_is_dead_lettered_with_pagerdutys_reason(tmp_path: Path, events_api: EventsApi) -> None:
    outbox = _outbox(tmp_path, PagerDutySink("pd", "too-short", events_api.url))
    outbox.enqueue(notification())
    outbox.deliver_due("pd")
    assert events_api.answers == [400]
    (dead,) = outbox.store.outbox.deliveries("dead")
    assert "HTTP 400" in dead["last_error"]
    assert "routing_key" in dead["last_error"]
    assert "too-short" not in dead["last_error"]
