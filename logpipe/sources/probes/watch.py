"""A probe's thread (ProbeRunner): each check within one deadline for the whole of it, and never an exception out
of it.

urllib3's timeouts are per socket operation: an endpoint sending a byte every second never trips one, and the
check (DNS, connect, TLS, headers, body) could run for hours while the probe's gauge stayed at its last value.
So each check runs on a worker thread and the probe's own thread waits for it until the probe's timeout: past
that, the check is a timeout, whatever it was doing. A worker still stuck is not joined by another: while it
waits, each check is a timeout at once (one stuck connection per probe at most). The worker reads the body a
chunk at a time as it comes, so it notices the deadline too and usually ends soon after.

A check that raises (a bug, or something the endpoint sent that logpipe did not foresee) becomes a failed reading
(`probe.error` "internal", the exception logged): the probe's thread goes on checking and its gauge says down.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
import urllib3

from logpipe.config.durations import format_duration
from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import (
    READINGS,
    ProbeMemory,
    Resolver,
    check,
    direct,
    pool_for,
    probe_event,
    redact_url,
)

log = structlog.get_logger("logpipe.probes")
GRACE = 0.25  # seconds past the timeout before the whole check is given up (urllib3's own timeout says it first)


class CheckWatch:
    """Runs a probe's checks, one at a time, each within the probe's timeout."""

    def __init__(self, probe: ProbeConfig) -> None:
        self.probe = probe
        self._stuck: threading.Thread | None = None

    def check(
        self,
        pool: urllib3.PoolManager,
        memory: ProbeMemory,
        resolve: Resolver = direct,
        clock: Callable[[], int] = time.time_ns,
    ) -> Event:
        """One check's event, within the probe's timeout; `memory` is updated as `check` updates it."""
        probe, started = self.probe, clock()
        if self._stuck is not None and self._stuck.is_alive():
            return timed_out(probe, memory, started, "the previous check is still waiting for the endpoint")
        self._stuck = None
        working = dataclasses.replace(memory)  # the worker's: a late answer changes nothing of the probe's
        answer: list[Event] = []
        worker = threading.Thread(
            target=_guarded, args=(probe, pool, working, resolve, clock, answer), name=f"check-{probe.label}",
            daemon=True,
        )  # fmt: skip
        worker.start()
        worker.join(probe.timeout / 1e9 + GRACE)
        if answer:
            memory.consecutive_failures, memory.uptime = working.consecutive_failures, working.uptime
            return answer[0]
        self._stuck = worker
        whole = format_duration(probe.timeout)
        return timed_out(probe, memory, started, f"no whole answer within {whole} (connect, headers and body)")


def timed_out(probe: ProbeConfig, memory: ProbeMemory, started: int, detail: str) -> Event:
    memory.consecutive_failures += 1
    fields: dict[str, Any] = {
        "name": probe.label, "url": redact_url(probe.url), "method": probe.method,
        "duration_ms": round(probe.timeout / 1e6, 1), "ok": False, "error": "timeout", "detail": detail,
        "consecutive_failures": memory.consecutive_failures,
    }  # fmt: skip
    return probe_event(started, fields)


def _guarded(
    probe: ProbeConfig,
    pool: urllib3.PoolManager,
    memory: ProbeMemory,
    resolve: Resolver,
    clock: Callable[[], int],
    answer: list[Event],
) -> None:
    started = clock()
    try:
        answer.append(check(probe, pool, memory, resolve, clock))
    except Exception as error:  # a probe's boundary: its thread must not die and leave its gauge frozen at up
        log.exception("probe check failed inside logpipe; reported as a failed check", probe=probe.label)
        memory.consecutive_failures += 1
        fields: dict[str, Any] = {
            "name": probe.label, "url": redact_url(probe.url), "method": probe.method, "duration_ms": 0.0,
            "ok": False, "error": "internal", "detail": f"{type(error).__name__} in logpipe (see its log)",
            "consecutive_failures": memory.consecutive_failures,
        }  # fmt: skip
        answer.append(probe_event(started, fields))


class ProbeRunner(threading.Thread):
    """Checks one probe every interval and hands each event over; a hung endpoint holds only this thread. A
    reload that changes or removes the probe retires the runner: it stops at once, or after the check under way,
    whose reading (of the old probe) it drops."""

    def __init__(
        self,
        probe: ProbeConfig,
        out: Callable[[Event], None],
        stopping: threading.Event,
        resolve: Resolver = direct,
        memory: ProbeMemory | None = None,
    ) -> None:
        super().__init__(name=f"probe-{probe.label}", daemon=True)
        self.probe, self.out, self.stopping, self.resolve = probe, out, stopping, resolve
        self.memory = memory or ProbeMemory()
        self.retired = threading.Event()
        self.pool = pool_for(probe)
        self.watch = CheckWatch(probe)

    def retire(self) -> None:
        self.retired.set()

    def run(self) -> None:
        interval = self.probe.interval / 1e9
        due = time.monotonic()
        while not (self.stopping.is_set() or self.retired.is_set()):
            event = self.watch.check(self.pool, self.memory, self.resolve)
            if self.retired.is_set():
                break
            self.out(event)
            due += interval
            # a check that overran its slot starts the next at once rather than piling up missed slots
            due = max(due, time.monotonic())
            self._pause_until(due)
        self.pool.clear()

    def _pause_until(self, due: float) -> None:
        """Sleep until the next check: a retirement wakes it at once, logpipe's stop within a quarter second."""
        while not self.stopping.is_set() and (left := due - time.monotonic()) > 0:
            if self.retired.wait(min(left, 0.25)):
                return


def queue_putter(out: queue.Queue[Any], stopping: threading.Event) -> Callable[[Event], None]:
    """Hands an event to the follower's queue as a READINGS item, waiting while the queue is full (the engine is
    busy), giving up when logpipe stops."""

    def put(event: Event) -> None:
        item = (READINGS, event.origin.name, [event])
        while not stopping.is_set():
            try:
                out.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    return put
