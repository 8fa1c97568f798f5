"""The dispatcher: every notification is committed to the outbox first (state/outbox.py), then each sink delivers
from it on its own thread, retrying with exponential backoff and jitter (and Retry-After), marking each delivery per
sink, and dead-lettering after a limit or a permanent error. A receiver that is down never blocks reading and
matching: the outbox absorbs, up to its size, and says so with a notice of its own when it fills."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from logpipe.alert import Alert, alert_id
from logpipe.errors import StateError
from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor
from logpipe.sinks.base import DeliveryError, Sink
from logpipe.state.outbox import Delivery, OutboxFull
from logpipe.state.store import StateStore

log = structlog.get_logger("logpipe.outbox")
OUTBOX_FULL_RULE = "logpipe.outbox-full"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial: float = 2.0  # seconds before the first retry
    factor: float = 2.0
    maximum: float = 300.0
    jitter: float = 0.2  # +/- this share of the delay, so retries from many alerts spread out
    max_attempts: int = 12  # then the delivery is dead-lettered (kept, counted, never silently dropped)

    def retry_at(self, attempts: int, error: DeliveryError, now: float) -> float | None:
        """When to try again after `attempts` failed attempts, or None to dead-letter."""
        if not error.retryable or attempts >= self.max_attempts:
            return None
        delay = min(self.maximum, self.initial * self.factor ** (attempts - 1))
        delay *= 1 + random.uniform(-self.jitter, self.jitter)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return now + delay


Router = Callable[[Notification], list[str]]


class Dispatcher:
    def __init__(
        self,
        store: StateStore,
        sinks: Mapping[str, Sink],
        route: Router,
        redactor: Redactor,
        policy: RetryPolicy | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store, self.sinks, self.route, self.redactor = store, dict(sinks), route, redactor
        self.outbox = store.outbox
        self.policy = policy or RetryPolicy()
        self.on_outcome = on_outcome or (lambda sink, outcome: None)  # (sink, delivered|retry|dead), for metrics
        self._wake = {name: threading.Event() for name in self.sinks}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._full = False
        self._paused_until: dict[str, float] = {}  # sink -> until when its receiver is taken to be down

    # --- committing -------------------------------------------------------------------------------------------
    def enqueue(self, notification: Notification) -> bool:
        """Commit the notification for each of its sinks; True if newly stored (False: already there, from a
        replay or a re-read after a restart: the same incident, the same number, the same id)."""
        sinks = [name for name in self.route(notification) if name in self.sinks]
        if not sinks:
            return False
        payload = self.redactor.payload(notification.to_dict())  # the final dict: nothing added later escapes it
        try:
            stored = self.outbox.put(notification.id, payload, sinks)
        except OutboxFull as full:
            self._on_full(notification, str(full))
            return False
        self._full = False
        for name in sinks:
            self._wake[name].set()
        return stored

    def enqueue_payload(self, item_id: str, payload: dict[str, Any], sinks: list[str]) -> bool:
        """Commit something other than a notification (the daily digest) for the sinks named, redacted like every
        exit; True if newly stored, False if `item_id` was stored before (it is sent once)."""
        sinks = [name for name in sinks if name in self.sinks]
        stored = self.outbox.put(item_id, self.redactor.payload({**payload, "id": item_id}), sinks)
        for name in sinks:
            self._wake[name].set()
        return stored

    def enqueue_many(self, notifications: list[Notification]) -> None:
        """Commit several in one transaction; one by one when the outbox is full, so each is accounted."""
        rows = []
        for notification in notifications:
            sinks = [name for name in self.route(notification) if name in self.sinks]
            if sinks:
                rows.append((notification.id, self.redactor.payload(notification.to_dict()), sinks))
        if not rows:
            return
        try:
            self.outbox.put_many(rows)
        except OutboxFull:
            for notification in notifications:
                self.enqueue(notification)
            return
        self._full = False
        for name in {sink for _, _, sinks in rows for sink in sinks}:
            self._wake[name].set()

    def _on_full(self, dropped: Notification, reason: str) -> None:
        log.error("outbox full: alert not queued", alert=dropped.id, rule=dropped.rule, reason=reason)
        if self._full:
            return
        self._full = True  # one alert about it per episode, let through whatever the limit says
        notice = Notification.standalone(
            Alert(
                rule=OUTBOX_FULL_RULE,
                title="logpipe's outbox is full: alerts are being dropped",
                severity="critical",
                status="firing",
                time=dropped.time,
                group=(),
                message=f"{reason}; receivers have been failing. Latest dropped: {dropped.rule}",
                runbook="Check the sinks' receivers (logpipe outbox), then let the backlog drain.",
                id=alert_id(OUTBOX_FULL_RULE, (), "firing", dropped.time, None),
            )
        )
        self.outbox.put(notice.id, self.redactor.payload(notice.to_dict()), list(self.sinks), notice=True)

    # --- delivering -------------------------------------------------------------------------------------------
    def deliver_due(self, sink_name: str, now: float | None = None) -> int:
        """Try the deliveries of this sink that are due, oldest first; the number tried. When the receiver is
        down, the sink pauses until the failed delivery's retry time: the others wait untried, in order."""
        now = time.time() if now is None else now
        if now < self._paused_until.get(sink_name, 0.0):
            return 0
        sink = self.sinks[sink_name]
        batch = self.outbox.due(sink_name, now)
        for tried, delivery in enumerate(batch, 1):
            if self._stopping.is_set():
                return tried - 1
            paused_until = self._attempt(sink, delivery)
            if paused_until is not None:
                self._paused_until[sink_name] = paused_until
                return tried
        return len(batch)

    def _attempt(self, sink: Sink, delivery: Delivery) -> float | None:
        """Deliver one; when the receiver is down, the time to try it again (the sink waits until then)."""
        try:
            sink.deliver(delivery.payload)
        except DeliveryError as error:
            retry_at = self._failed(sink, delivery, error)
            return retry_at if error.receiver_down else None
        except Exception as error:
            self._failed(sink, delivery, DeliveryError(f"{type(error).__name__}: {error}"))
            return None
        else:
            self.outbox.delivered(delivery.id, sink.name)
            self.on_outcome(sink.name, "delivered")
            log.info(
                "delivered",
                sink=sink.name,
                alert=delivery.id,
                rule=delivery.payload.get("rule"),
                attempt=delivery.attempts + 1,
            )
            return None

    def _failed(self, sink: Sink, delivery: Delivery, error: DeliveryError) -> float | None:
        attempts = delivery.attempts + 1
        retry_at = self.policy.retry_at(attempts, error, time.time())
        self.outbox.failed(delivery.id, sink.name, str(error), retry_at)
        self.on_outcome(sink.name, "dead" if retry_at is None else "retry")
        if retry_at is None:
            log.error("dead-lettered", sink=sink.name, alert=delivery.id, attempts=attempts, error=str(error))
        else:
            log.warning(
                "delivery failed, will retry",
                sink=sink.name,
                alert=delivery.id,
                attempts=attempts,
                error=str(error),
                retry_in=round(retry_at - time.time(), 2),
            )
        return retry_at

    def start(self) -> None:
        for name in self.sinks:
            thread = threading.Thread(target=self._run, args=(name,), name=f"sink-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, name: str) -> None:
        wake = self._wake[name]
        while not self._stopping.is_set():
            wake.clear()
            try:
                self.deliver_due(name)
                self._refresh(name)
            except StateError as error:  # the disk is full, or the file went read-only: the rows stay pending
                log.error("state store unwritable, deliveries paused", sink=name, error=str(error))
                wake.wait(5.0)
                continue
            upcoming = max(self.outbox.next_due(name) or 0.0, self._paused_until.get(name, 0.0)) or None
            wait = 1.0 if upcoming is None else min(1.0, max(0.0, upcoming - time.time()))
            wake.wait(wait)

    def _refresh(self, name: str) -> None:
        """A sink whose receiver must keep hearing what is still open (Alertmanager) re-posts it here, on its own
        thread, between deliveries."""
        refresh = getattr(self.sinks[name], "refresh", None)
        if refresh is not None:
            refresh(time.time())

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is pending (True), or `timeout` seconds passed (False: the rest stays queued)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not any(state == "pending" for (_, state) in self.outbox.counts()):
                return True
            for event in self._wake.values():
                event.set()
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stopping.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout=10)
