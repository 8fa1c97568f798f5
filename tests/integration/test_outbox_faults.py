"""The outbox when receivers fail: down then up, 500 then 200, 429 with Retry-After, a permanent 4xx, a full
outbox, and logpipe killed between queueing and delivery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from logpipe.alert import Alert
from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer
from logpipe.sinks.dispatcher import OUTBOX_FULL_RULE, Dispatcher, RetryPolicy
from logpipe.sinks.webhook import WebhookChannel
from logpipe.state.store import StateStore
from tests.conftest import EXAMPLES
from tests.integration.receivers import HttpReceiver, free_port
from tests.waiting import wait_until

FAST = RetryPolicy(initial=0.1, factor=2.0, maximum=0.5, jitter=0.0, max_attempts=5)


def alert(number: int) -> Notification:
    return Notification.standalone(
        Alert(
            rule="db-down",
            title="DB down",
            severity="critical",
            status="firing",
            time=number,
            group=(),
            message=f"incident {number}",
            id=f"{number:032x}",
        )
    )


def drained(outbox: Dispatcher) -> None:
    """Wait until nothing is pending in the outbox (delivered or dead-lettered)."""
    wait_until(lambda: outbox.drain(0.5), what=lambda: f"the outbox drained: {outbox.store.outbox.counts()}")


def dispatcher(tmp_path: Path, url: str, policy: RetryPolicy = FAST, max_pending: int = 1000) -> Dispatcher:
    store = StateStore(tmp_path / "state.sqlite", max_pending)
    sink = WebhookChannel("ops", url, "webhook", Renderer())
    return Dispatcher(store, {"ops": sink}, lambda _: ["ops"], Redactor(), policy)


def test_receiver_down_then_up_gets_the_alert_exactly_once(tmp_path: Path) -> None:
    receiver = HttpReceiver()  # not started yet: its port refuses connections
    outbox = dispatcher(tmp_path, receiver.url)
    outbox.start()
    outbox.enqueue(alert(1))
    wait_until(lambda: outbox.store.outbox.deliveries()[0]["attempts"] >= 2)
    assert receiver.requests == []
    receiver.start()
    try:
        drained(outbox)
        assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [alert(1).id]
        assert outbox.store.outbox.counts() == {("ops", "delivered"): 1}
    finally:
        outbox.stop()
        receiver.stop()


def test_a_receiver_that_is_down_pauses_its_sink_and_the_backlog_is_sent_in_order(tmp_path: Path) -> None:
    """50 alerts while the receiver refuses connections: one attempt per backoff, not 50 (each failed attempt is
    a write to the outbox), then all 50 in the order they fired once it is back."""
    receiver = HttpReceiver()  # not started yet: its port refuses connections
    outbox = dispatcher(tmp_path, receiver.url)
    outbox.enqueue_many([alert(n) for n in range(50)])
    assert outbox.deliver_due("ops") == 1
    assert outbox.deliver_due("ops") == 0  # paused: nothing tried until the first delivery's retry time
    attempts = [row["attempts"] for row in outbox.store.outbox.deliveries()]
    assert sorted(attempts) == [0] * 49 + [1]
    receiver.start()
    outbox.start()
    try:
        drained(outbox)
        assert [r.json()["message"] for r in receiver.requests] == [f"incident {n}" for n in range(50)]
    finally:
        outbox.stop()
        receiver.stop()


def test_500_then_200_retries_and_delivers_once(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    http_receiver.plan.extend([(500, {}, b"boom"), (502, {}, b"bad gateway")])
    outbox = dispatcher(tmp_path, http_receiver.url)
    outbox.start()
    outbox.enqueue(alert(1))
    try:
        drained(outbox)
    finally:
        outbox.stop()
    assert len(http_receiver.requests) == 3
    assert outbox.store.outbox.deliveries() == [
        {"alert_id": alert(1).id, "sink": "ops", "state": "delivered", "attempts": 3, "last_error": ""}
    ]


def test_429_waits_at_least_retry_after(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    http_receiver.plan.append((429, {"Retry-After": "1"}, b"slow down"))
    outbox = dispatcher(tmp_path, http_receiver.url)
    outbox.enqueue(alert(1))
    tried = time.time()
    assert outbox.deliver_due("ops") == 1  # answered 429
    retry = outbox.store.outbox.next_due("ops")
    assert retry is not None
    assert retry >= tried + 1.0  # the backoff alone would have retried after 0.1 s
    assert outbox.deliver_due("ops", now=retry - 0.01) == 0  # not before
    assert outbox.deliver_due("ops", now=retry) == 1
    assert len(http_receiver.requests) == 2
    assert outbox.store.outbox.counts() == {("ops", "delivered"): 1}


def test_a_permanent_4xx_is_dead_lettered_not_retried_and_kept(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    http_receiver.plan.append((400, {}, b"bad request: unknown field"))
    outbox = dispatcher(tmp_path, http_receiver.url)
    outbox.start()
    outbox.enqueue(alert(1))
    try:
        drained(outbox)
    finally:
        outbox.stop()
    assert len(http_receiver.requests) == 1
    (dead,) = outbox.store.outbox.deliveries("dead")
    assert dead["last_error"] == "HTTP 400: bad request: unknown field"


def test_same_alert_twice_is_queued_once(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    outbox = dispatcher(tmp_path, http_receiver.url)
    assert outbox.enqueue(alert(1)) is True
    assert outbox.enqueue(alert(1)) is False  # a replay after a crash: same id, nothing new
    outbox.start()
    try:
        drained(outbox)
    finally:
        outbox.stop()
    assert len(http_receiver.requests) == 1


def test_a_full_outbox_says_so_with_an_alert_of_its_own(tmp_path: Path) -> None:
    outbox = dispatcher(tmp_path, f"http://127.0.0.1:{free_port()}", max_pending=10)
    for number in range(12):
        outbox.enqueue(alert(number))
    rows = outbox.store.outbox.deliveries()
    assert len(rows) == 11  # ten alerts, and the notice about the full outbox
    notices = [r for r in rows if r["alert_id"] not in {alert(n).id for n in range(12)}]
    assert len(notices) == 1
    payload = outbox.store.outbox.due("ops", now=time.time() + 1, limit=100)
    assert any(d.payload["rule"] == OUTBOX_FULL_RULE for d in payload)


def test_killed_between_queueing_and_delivery_then_restarted_delivers_each_alert_once(tmp_path: Path) -> None:
    receiver = HttpReceiver()  # down while the first run queues everything
    config = tmp_path / "logpipe.yml"
    config.write_text(
        f"state_dir: state\nchannels:\n  ops: {{url: '{receiver.url}/alerts', kind: webhook}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 1s, max_attempts: 1000}\n"
    )
    command = [
        sys.executable,
        "-m",
        "logpipe",
        "replay",
        "--config",
        str(config),
        "--format",
        "jsonl",
        "--wait",
        "60",
        str(EXAMPLES / "clipforge-api-json.log"),
    ]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    database = tmp_path / "state" / "state.sqlite"

    def queued() -> int:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                return int(db.execute("SELECT count(*) FROM deliveries").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet, or its schema not yet written
            return 0

    wait_until(lambda: queued() == 24, what="the 24 notifications queued")
    assert queued() == 24
    os.killpg(first.pid, signal.SIGKILL)  # mid-retry: nothing delivered, everything queued
    first.wait()
    receiver.start()
    try:
        second = subprocess.run(command, capture_output=True, timeout=120, check=True)
        assert b"deliveries: ops delivered 24" in second.stderr
        keys = [request.headers["Idempotency-Key"] for request in receiver.requests]
        assert len(keys) == 24
        assert len(set(keys)) == 24
    finally:
        receiver.stop()


def test_a_replay_with_its_receiver_down_says_what_it_waits_for_how_many_wait_and_where_and_exits_3(
    tmp_path: Path,
) -> None:
    """The receiver's port is closed: the replay says what it waits for while it waits (not 30 s without a word),
    then how many deliveries were not made and where they wait, shows them `queued` in its table (not `sent`), and
    exits 3; with the receiver up, the next replay delivers them and exits 0."""
    port = free_port()
    config = tmp_path / "logpipe.yml"
    config.write_text(
        f"state_dir: state\nchannels:\n  ops: {{url: 'http://127.0.0.1:{port}/alerts', kind: webhook}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 1s, max_attempts: 1000}\n"
    )
    command = [sys.executable, "-m", "logpipe", "replay", "--config", str(config), "--format", "jsonl"]
    log = str(EXAMPLES / "clipforge-api-json.log")
    down = subprocess.run([*command, "--wait", "3", log], capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 3, down.stderr
    assert "logpipe: waiting for 24 deliveries to the receivers (up to 3 s: --wait)" in down.stderr
    state = tmp_path / "state" / "state.sqlite"
    assert (
        f"24 deliveries not made: 24 wait in the outbox ({state}): 24 for ops; they are retried by the next "
        f"`logpipe replay` or `logpipe follow` on this state directory (`logpipe outbox --config {config}` lists them)"
    ) in down.stderr
    table = [line for line in down.stderr.splitlines() if line.startswith("postgres-connection-errors-burst")]
    assert "resolved: queued" in table[0]
    assert ": sent" not in down.stderr

    receiver = HttpReceiver(port=port)
    receiver.start()
    try:
        up = subprocess.run([*command, "--wait", "60", log], capture_output=True, text=True, timeout=120, check=False)
    finally:
        receiver.stop()
    assert up.returncode == 0, up.stderr
    assert "deliveries: ops delivered 24" in up.stderr
    assert "not made" not in up.stderr
