"""What the follower counts: lines per container and stream, events by parser and flag, notifications by rule and
kind. Counted in plain dicts on the per-line path and pushed to the Prometheus metrics at each save, with the
readers' reconnects and skips and the health of each part, so following a busy container pays no metric-library
call per line; and drawn in the live view on a terminal."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from logpipe.console.liveview import ContainerRow, Snapshot
from logpipe.engine import Engine
from logpipe.event import Event
from logpipe.incidents.notification import Notification
from logpipe.sources.docker.reader import ContainerReader
from logpipe.telemetry import Telemetry


@dataclass
class Counters:
    """What `logpipe follow` prints when it stops."""

    lines: dict[str, int] = field(default_factory=dict)  # per container
    events: int = 0
    notifications: int = 0  # made and not silenced (folded ones included: they go to Sentry as breadcrumbs)

    def to_json(self) -> str:
        return orjson.dumps({"lines": self.lines, "events": self.events, "alerts": self.notifications}).decode()


class FollowStats:
    def __init__(self, telemetry: Telemetry, view: Callable[[Snapshot], None] | None = None) -> None:
        self.telemetry = telemetry
        self.view = view  # the live view on a terminal, shown at each report
        self.counters = Counters()
        self.last_time: dict[str, int] = {}  # per container: the Docker time of the last line read
        self._lines: collections.Counter[tuple[str, str]] = collections.Counter()
        self._parsed: collections.Counter[tuple[str]] = collections.Counter()
        self._flags: collections.Counter[tuple[str]] = collections.Counter()
        self._fired: collections.Counter[tuple[str, str]] = collections.Counter()
        self._pages: collections.Counter[str] = collections.Counter()  # firing notifications shown, by rule
        self._lines_at_report: dict[str, int] = {}
        self._reconnects: dict[tuple[str, str], int] = {}
        self._skipped: dict[tuple[str, str], int] = {}
        self._reported_at = time.monotonic()

    def line(self, name: str, key: tuple[str, str], time_ns: int) -> None:
        lines = self.counters.lines
        lines[name] = lines.get(name, 0) + 1
        self._lines[key] += 1
        self.last_time[name] = time_ns

    def event(self, event: Event) -> None:
        self.counters.events += 1
        self._parsed[(event.parser,)] += 1
        for flag in event.flags:
            self._flags[(flag,)] += 1

    def notification(self, notification: Notification) -> None:
        self._fired[(notification.rule, notification.kind)] += 1
        if notification.silenced:
            return
        self.counters.notifications += 1
        if notification.folded_into is None and notification.kind == "firing":
            self._pages[notification.rule] += 1  # the live view's pages, by rule

    def read_lag(self) -> float:
        """Seconds from the Docker time of the last line read to now, of the container furthest behind (0 before
        any line)."""
        now = time.time_ns()
        return max((now - t for t in self.last_time.values()), default=0) / 1e9

    def report(
        self, readers: Sequence[ContainerReader], events_problem: str | None, engine: Engine, queued: int
    ) -> None:
        """Push what was counted since the last report to the metrics, the readers' state to the health, and a
        snapshot to the live view."""
        telemetry = self.telemetry
        telemetry.add(telemetry.lines, self._lines)
        telemetry.add(telemetry.events, self._parsed)
        telemetry.add(telemetry.anomalies, self._flags)
        telemetry.add(telemetry.notifications, self._fired)
        for counts in (self._lines, self._parsed, self._flags, self._fired):
            counts.clear()
        now = time.time_ns()
        for name, last in self.last_time.items():
            telemetry.read_lag.labels(name).set(max(0.0, (now - last) / 1e9))
        telemetry.queue_depth.set(queued)
        for reader in readers:
            _count_into(telemetry.reconnects, reader.container, reader.reconnects, self._reconnects)
            _count_into(telemetry.skipped, reader.container, reader.skipped, self._skipped)
            telemetry.degraded(f"docker:{reader.container}", reader.problem)
        telemetry.degraded("docker:events", events_problem)
        for rule, why in engine.disabled.items():
            telemetry.degraded(f"rule:{rule}", f"disabled after an error: {why}")
        for live in engine.active:
            if live is not None and live.overflowed:
                telemetry.group_overflow.labels(live.info.id).set(live.overflowed)
        if self.view is not None:
            self.view(self.snapshot(readers, now))

    def snapshot(self, readers: Sequence[ContainerReader], now: int) -> Snapshot:
        """The live view's picture: each container's state, lines and lines/s since the last one, and lag."""
        elapsed = max(1e-3, time.monotonic() - self._reported_at)
        self._reported_at = time.monotonic()
        rows = []
        for reader in readers:
            name = reader.container
            lines = self.counters.lines.get(name, 0)
            rate = (lines - self._lines_at_report.get(name, 0)) / elapsed
            self._lines_at_report[name] = lines
            last = self.last_time.get(name)
            lag = None if last is None else max(0.0, (now - last) / 1e9)
            rows.append(ContainerRow(name, reader.problem or reader.state, lines, rate, lag))
        return Snapshot(rows, collections.Counter(self._pages), self.telemetry.problems())


def _count_into(
    metric: Any, container: str, counts: collections.Counter[str], told: dict[tuple[str, str], int]
) -> None:
    """Add what a reader counted (by reason) since the last report to a labelled Prometheus counter."""
    for reason, count in list(counts.items()):
        added = count - told.get((container, reason), 0)
        if added:
            metric.labels(container, reason).inc(added)
            told[(container, reason)] = count
