"""The dispatcher and the plain sinks, with a sink that records what reaches it (the real receivers are in
tests/integration/test_channels.py): committed once per id, routed, retried with backoff and Retry-After,
paused while a receiver is down, dead-lettered and counted, never dropped silently when the outbox is full."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from logpipe.alert import Alert, alert_id
from logpipe.console.printers import JsonLinesPrinter
from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor
from logpipe.sinks.base import DeliveryError, http_failure, parse_retry_after
from logpipe.sinks.dispatcher import OUTBOX_FULL_RULE, Dispatcher, RetryPolicy
from logpipe.state.store import StateStore

T0 = 1_795_770_000_000_000_000


class Receiver:
    """A sink whose receiver fails the first `failures` deliveries with `error`, then takes them."""

    def __init__(self, name: str, failures: int = 0, error: DeliveryError | None = None) -> None:
        self.name, self.failures, self.error = name, failures, error or DeliveryError("connection refused")
        self.received: list[dict[str, Any]] = []
        self.tries = 0

    def deliver(self, payload: dict[str, Any]) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise self.error
        self.received.append(payload)


def notification(rule: str = "payment-failed", second: int = 0, message: str = "payment failed") -> Notification:
    time_ns = T0 + second * 10**9
    return Notification.standalone(
        Alert(
            rule=rule,
            title="Payment failed",
            severity="critical",
            status="firing",
            time=time_ns,
            group=(),
            message=message,
            runbook="look",
            id=alert_id(rule, (), "firing", time_ns, None),
        )
    )


def dispatcher(tmp_path: Path, *sinks: Receiver, **options: Any) -> tuple[Dispatcher, list[tuple[str, str]]]:
    outcomes: list[tuple[str, str]] = []
    store = StateStore(tmp_path / "state.db", **options)
    made = Dispatcher(
        store,
        {sink.name: sink for sink in sinks},
        lambda alert: [sink.name for sink in sinks],
        Redactor(),
        RetryPolicy(initial=10.0, jitter=0.0, max_attempts=3),
        on_outcome=lambda sink, outcome: outcomes.append((sink, outcome)),
    )
    return made, outcomes


def test_a_notification_is_committed_once_and_delivered_redacted(tmp_path: Path) -> None:
    slack = Receiver("slack")
    made, outcomes = dispatcher(tmp_path, slack)
    alert = notification(message="payment failed for bob@example.com with sk_live_51Habcdefghijklmnopqrstu")
    assert made.enqueue(alert) is True
    assert made.enqueue(alert) is False  # the same id again (a re-read after a restart): kept once
    assert made.deliver_due("slack") == 1
    assert len(slack.received) == 1
    assert outcomes == [("slack", "delivered")]
    sent = orjson.dumps(slack.received[0]).decode()
    assert "bob@example.com" not in sent
    assert "sk_live_51H" not in sent


def test_routes_pick_the_sinks_and_a_route_to_no_sink_stores_nothing(tmp_path: Path) -> None:
    slack, email = Receiver("slack"), Receiver("email")
    made, _ = dispatcher(tmp_path, slack, email)
    made.route = lambda alert: ["email"] if alert.rule == "payment-failed" else []
    assert made.enqueue(notification()) is True
    assert made.enqueue(notification("other-rule")) is False
    made.deliver_due("slack"), made.deliver_due("email")
    assert (len(slack.received), len(email.received)) == (0, 1)


def test_a_receiver_down_is_retried_after_the_backoff_and_the_others_wait_in_order(tmp_path: Path) -> None:
    down = DeliveryError("HTTP 503", receiver_down=True)
    webhook = Receiver("webhook", failures=1, error=down)
    made, outcomes = dispatcher(tmp_path, webhook)
    made.enqueue_many([notification(second=1), notification(second=2)])
    now = time.time()
    assert made.deliver_due("webhook", now) == 1  # the first failed: the sink pauses, the second is not tried
    assert made.deliver_due("webhook", now + 1) == 0  # still paused
    assert made.deliver_due("webhook", now + 11) == 2  # after the 10 s backoff both go, oldest first
    assert [p["time"] for p in webhook.received] == sorted(p["time"] for p in webhook.received)
    assert outcomes == [("webhook", "retry"), ("webhook", "delivered"), ("webhook", "delivered")]


def test_a_permanent_error_or_too_many_attempts_dead_letters_and_is_counted(tmp_path: Path) -> None:
    refused = Receiver("email", failures=99, error=http_failure(400, "bad request", None))
    made, outcomes = dispatcher(tmp_path, refused)
    made.enqueue(notification())
    made.deliver_due("email")
    assert outcomes == [("email", "dead")]
    assert made.store.outbox.counts() == {("email", "dead"): 1}


def test_retry_policy_backs_off_honours_retry_after_and_gives_up() -> None:
    policy = RetryPolicy(initial=2.0, factor=2.0, maximum=300.0, jitter=0.0, max_attempts=4)
    error = DeliveryError("timeout")
    assert [policy.retry_at(n, error, 0.0) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert policy.retry_at(4, error, 0.0) is None
    assert policy.retry_at(1, DeliveryError("slow down", retry_after=60.0), 0.0) == 60.0
    assert policy.retry_at(1, DeliveryError("bad", retryable=False), 0.0) is None


@pytest.mark.parametrize(
    ("status", "retryable", "down"),
    [
        (400, False, False),
        (401, False, False),
        (408, True, False),
        (429, True, True),
        (500, True, False),
        (503, True, True),
    ],
)
def test_http_answers_are_classified(status: int, retryable: bool, down: bool) -> None:
    error = http_failure(status, "body", "7")
    assert (error.retryable, error.receiver_down, error.retry_after) == (retryable, down, 7.0)


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    in_a_minute = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 <= (parse_retry_after(in_a_minute) or 0) <= 61
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_full_outbox_says_so_once_and_drops_nothing_silently(tmp_path: Path) -> None:
    slack = Receiver("slack")
    made, _ = dispatcher(tmp_path, slack, max_pending=2)
    for second in range(5):
        made.enqueue(notification(second=second))
    made.deliver_due("slack")
    rules = [payload["rule"] for payload in slack.received]
    assert rules.count(OUTBOX_FULL_RULE) == 1  # one notice per episode, let through past the limit
    assert rules.count("payment-failed") == 2


def test_json_lines_are_redacted_unless_asked_not_to() -> None:
    secret = notification(message="token sk_live_51Habcdefghijklmnopqrstu")
    out = io.BytesIO()
    JsonLinesPrinter(out, Redactor()).show(secret)
    assert b"sk_live_51H" not in out.getvalue()
    raw = io.BytesIO()
    JsonLinesPrinter(raw, None).show(secret)  # --no-redact: the output stays on this host
    assert b"sk_live_51H" in raw.getvalue()
