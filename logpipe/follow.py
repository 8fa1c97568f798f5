"""The live pipeline behind `logpipe follow`: Docker readers -> bounded queue -> assembler -> engine -> sinks and
outbox, with checkpoints that only advance past lines whose events are fully handled.

Checkpoints: for each container and stream, the position (Docker timestamp, lines seen at that timestamp) of the
last line that is no longer held by the assembler (an open multi-line event or a partial chunk is held). They are
saved together every half second and at shutdown; on start, reading resumes right after them. Docker events
have a checkpoint of their own (their time and how many shared it), under the name `EVENTS`.

The event output file (--events-out) is flushed before each save, and its length saved in the same transaction as
the checkpoints; on start it is cut back to that length. So after a kill -9, what was written past the last save
is removed and written again from the re-read lines: each line's event appears exactly once. The incident book's
changed incidents are saved in the same transaction, so after a restart they are as the checkpointed lines left
them: the re-read lines count once more into nothing already counted, and the notifications they make again
have the same ids (incident, number) and are kept once by the outbox.

Time: the engine and the incident book run on event time. The wall clock moves the watermark only when no line
has arrived for LATENESS (every stream caught up and idle): during a warm-up or a backlog, time comes from the
lines, so a restart fires what a replay of the same lines fires. Docker events and probe/stats/disk readings come
from other threads stamped near the present; they wait in a time-ordered heap and are merged in ahead of the first
line later than them, or let through once the readers are caught up. Without that, a container's `start` read
before its backlog moved the engine's one watermark past the whole backlog, and nothing in it fired.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import os
import queue
import signal
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
import structlog

from logpipe.alert import Alert
from logpipe.config import Config
from logpipe.engine import Engine, RuleSet
from logpipe.engine.engine import DISABLED_RULE
from logpipe.event import Event, Origin, RawLine
from logpipe.fleet.sync import FleetSync
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.liveview import ContainerRow, Snapshot
from logpipe.parsers import Assembler
from logpipe.redact import Redactor
from logpipe.sinks.outbox import Dispatcher, Router
from logpipe.sources.docker import ContainerReader, Item, find_container
from logpipe.sources.dockerevents import EVENTS, EventWatcher
from logpipe.state import Checkpoint, StateStore
from logpipe.telemetry import Telemetry

log = structlog.get_logger("logpipe.follow")
QUEUE_SIZE = 8  # batches (up to 2,048 lines each) between readers and engine; a reader waits when it is full,
# which bounds memory and keeps a reader that is never short of data from taking the GIL from the engine
LATENESS = 2_000_000_000  # the idle watermark trails the clock, so late lines still land in open windows
SAVE_EVERY = 0.5
STARTUP_GRACE = 30.0  # seconds: with nothing read yet, how long before the clock may move time anyway (silence)
MAX_HELD = 10_000  # events and readings held while a backlog is read (minutes of them); past this they go through
SILENCES_EVERY = 1.0  # how often the silences are re-read from the store (`logpipe silence add` elsewhere)


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What a reload (SIGHUP, `logpipe reload`) brings: the rules, the config's maintenance windows and routes,
    and the config itself (its probes are applied by cli.py's loader: sources/monitors.py)."""

    ruleset: RuleSet
    maintenance: Sequence[MaintenanceWindow]
    route: Router
    config: Config | None = None


@dataclass
class Counters:
    lines: dict[str, int] = field(default_factory=dict)  # per container
    events: int = 0
    alerts: int = 0


class Follower:
    def __init__(
        self,
        client: Any,
        names: Sequence[str],
        store: StateStore,
        engine: Engine,
        deliver: Callable[[Notification], None],
        dispatcher: Dispatcher | None,
        initial_since: int,
        until_exit: bool = False,
        events_out: BinaryIO | None = None,
        host: str = "",
        telemetry: Telemetry | None = None,
        view: Callable[[Snapshot], None] | None = None,
        direct: bool = True,
        labels: Sequence[str] = (),
        book: IncidentBook | None = None,
        reload_rules: Callable[[], Reloaded | None] | None = None,
        fleet: FleetSync | None = None,
    ) -> None:
        self.fleet = fleet  # state shared with other instances (logpipe/fleet/): synced each tick
        self.client, self.names, self.store, self.engine = client, list(names), store, engine
        self.book = book or IncidentBook(engine.ruleset)
        self.book.restore(store.open_incidents())  # as the last checkpoint left them: nothing re-paged or lost
        self.reload_rules = reload_rules  # SIGHUP: the new rule set, or None when it has errors (logged)
        self._reload_asked = threading.Event()
        self._last_arrival = self._started = time.monotonic()
        self._arrived = False  # any log line handed over yet
        self._silences_at = 0.0
        self.silenced = 0
        self.deliver, self.dispatcher, self.until_exit, self.events_out = deliver, dispatcher, until_exit, events_out
        self.queue: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        self.stopping = threading.Event()
        self.assembler = Assembler()
        self.counters = Counters()
        self._redactor = Redactor()
        # (container id, Docker time, lines seen at that time), per (container, stream):
        self._read: dict[tuple[str, str], tuple[str, int, int]] = {}  # the last line fed
        self._safe: dict[tuple[str, str], tuple[str, int, int]] = {}  # the last line whose events are all handled
        self._saved: dict[tuple[str, str], Checkpoint] = {}
        self._pending_alerts: list[Notification] = []
        self._warm: set[Origin] = set()
        # while a reader's batch of lines is handled: its events (and the held ones released between them), in
        # order, for the engine at the batch's end, so the prefilter scans them in one call (Engine.prescan)
        self._deferred: list[tuple[Event, bool]] | None = None
        self._origin_of: dict[tuple[str, str], Origin] = {}  # the current container's origin per (name, stream)
        self._last_origin: Origin | None = None
        self._last_key = ("", "")  # (name, stream) of _last_origin
        self.telemetry = telemetry or Telemetry()
        self.view = view  # the live view on a terminal, shown at each report
        self._alerts_by_rule: collections.Counter[str] = collections.Counter()
        self._lines_at_report: dict[str, int] = {}
        self._lines: collections.Counter[tuple[str, str]] = collections.Counter()
        self._parsed: collections.Counter[tuple[str]] = collections.Counter()
        self._flags: collections.Counter[tuple[str]] = collections.Counter()
        self._fired: collections.Counter[tuple[str, str]] = collections.Counter()
        self._last_time: dict[str, int] = {}
        # Docker events and probe/stats/disk readings waiting for the lines to reach their time: (time, arrival,
        # event, warm, the events checkpoint it moves to or None); a heap, as the two sources interleave
        self._held: list[tuple[int, int, Event, bool, tuple[int, int] | None]] = []
        self._arrivals = itertools.count()
        # where the warm-up re-read of the logs starts (the oldest checkpoint less the rules' memory); None: no
        # checkpoint, so no warm-up lines to merge with
        resumed = [cp.time for name in self.names for cp in store.checkpoints(name).values()]
        self._warm_from = min(resumed) - engine.ruleset.memory() if resumed else None
        self._readers_busy_at = time.monotonic()  # the last time a reader was seen attaching or reading a backlog
        self._reconnects: dict[tuple[str, str], int] = {}
        self._skipped: dict[tuple[str, str], int] = {}
        self._saved_at = self._reported_at = time.monotonic()
        # read at each scrape: how long since the checkpoints were saved (a stuck follower's grows)
        self.telemetry.checkpoint_age.set_function(lambda: time.monotonic() - self._saved_at)
        self._reader_options = (initial_since, host, direct)
        self.readers = [self._new_reader(name) for name in self.names]
        self.watcher = EventWatcher(
            client,
            set(self.names),
            self.queue,
            self.stopping,
            initial_since,
            store.checkpoints(EVENTS).get(EVENTS),
            engine.ruleset.memory(),
            on_start=self._wake_reader,
            labels=labels,
            on_discovery=lambda name: self.queue.put(("discovered", name, None)),
        )
        self._output = _committed_output(events_out, store)

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def ask_reload(self, *_: object) -> None:
        """SIGHUP: reload between batches, on the follower's own thread."""
        self._reload_asked.set()

    def _reload(self) -> None:
        self._reload_asked.clear()
        reloaded = self.reload_rules() if self.reload_rules is not None else None
        if reloaded is None:
            return  # refused (the loader logged each problem with file:line): the old rules keep running
        self.engine.reload(reloaded.ruleset)
        self.book.load(reloaded.ruleset)
        self.book.silences.windows = list(reloaded.maintenance)
        if self.dispatcher is not None:
            self.dispatcher.route = reloaded.route  # routes; channels themselves need a restart
        log.info("rules reloaded", rules=len(reloaded.ruleset.rules), maintenance_windows=len(reloaded.maintenance))

    def _new_reader(self, name: str) -> ContainerReader:
        initial_since, host, direct = self._reader_options
        checkpoints = self.store.checkpoints(name)
        lookback = self.engine.ruleset.memory()
        return ContainerReader(
            self.client, name, self.queue, self.stopping, checkpoints, initial_since, self.until_exit, host, lookback,
            direct,
        )  # fmt: skip

    def _follow_discovered(self, name: str) -> None:
        """A container that carries the --label selectors showed up: follow it too, by its name, unless it is
        gone already (an event replayed from before logpipe started)."""
        import docker.errors

        if name in self.names:
            return
        try:
            if find_container(self.client, name) is None:
                return
        except (docker.errors.DockerException, OSError):
            pass  # the daemon is away: follow it anyway, the reader waits for the daemon
        log.info("following a container that carries the labels", container=name)
        self.names.append(name)
        reader = self._new_reader(name)
        self.readers.append(reader)
        reader.start()

    def _wake_reader(self, name: str) -> None:
        for reader in self.readers:
            if reader.container == name:
                reader.wake.set()

    def run(self, handle_signals: bool = True) -> Counters:
        if handle_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
            signal.signal(signal.SIGHUP, self.ask_reload)
        for reader in self.readers:
            reader.start()
        self.watcher.start()
        ended: set[str] = set()
        input_ended = False
        last_save = last_idle = time.monotonic()
        try:
            while not self.stopping.is_set():
                try:
                    kind, name, payload = self.queue.get(timeout=0.1)
                except queue.Empty:
                    kind = ""
                if kind == "lines":
                    self._last_arrival, self._arrived = time.monotonic(), True
                    self._handle_lines(name, payload)
                elif kind == "events":
                    self._last_arrival = time.monotonic()
                    self._hold_docker_events(payload)
                elif kind == "ended":
                    ended.add(name)
                elif kind == "discovered":
                    self._follow_discovered(name)
                elif kind == "readings":  # probe, stats and disk events (sources/monitors.py)
                    self._hold_readings(payload)
                elif kind == "warm readings":  # kept from before a restart (sources/readinglog.py): windows only
                    self._hold_readings(payload, warm=True)
                if self._reload_asked.is_set():
                    self._reload()
                now = time.monotonic()
                if now - last_idle >= 0.1:
                    self._idle()
                    last_idle = now
                if now - last_save >= SAVE_EVERY:
                    self._save()
                    last_save = now
                if (
                    self.until_exit
                    and len(ended) == len(self.names)
                    and (self.watcher.caught_up.is_set() or self.watcher.problem is not None)
                    and self.queue.empty()
                ):
                    input_ended = True
                    break
        finally:
            self.stopping.set()
            self._drain()
            self._release_until(None)  # what waited for later lines: there are none
            for origin in list(self._warm):  # warm-ups no new line followed: their open events were handled before
                self._events(self.assembler.flush_stream(origin), warm=True)
            self._warm.clear()
            self._events(self.assembler.flush())
            if input_ended:  # --until-exit and every container is done: its end closes the incidents, as a replay's
                self._observe(self.engine.finish())
                for notification in self.book.finish(self.engine.watermark or 0):
                    self._notify(notification)
            self._mark_all_safe()
            self._save()
            for reader in self.readers:
                reader.join(timeout=5)
        return self.counters

    def _handle_lines(self, name: str, payload: Sequence[tuple[RawLine, bool]]) -> None:
        """A reader's batch of lines. The engine sees their events at the batch's end, in the order they came,
        scanned for the prefilter's patterns in one call: hyperscan's cost per call was most of the prefilter's
        per line. Nothing between reads depends on the engine's answers (checkpoints are saved, and alerts
        committed, only between batches), so the deferral changes no outcome."""
        deferred: list[tuple[Event, bool]] = []
        self._deferred = deferred
        try:
            for raw, warm in payload:
                self._line(name, raw, warm)
        finally:
            self._deferred = None
        if not deferred:
            return
        self.engine.prescan([event for event, _ in deferred])
        process = self.engine.process
        for event, warm in deferred:
            if warm:
                self._rebuild([event])
                continue
            alerts = process(event)
            if alerts:
                self._observe(alerts)

    def _line(self, name: str, raw: RawLine, warm: bool = False) -> None:
        if self._held and self._held[0][0] <= (raw.docker_time or 0):
            self._release_until(raw.docker_time or 0)  # the events and readings older than this line go first
        origin = raw.origin
        if origin is self._last_origin:  # lines come in runs of one stream: no tuple built and hashed per line
            key = self._last_key
        else:
            key = (name, origin.stream)
            self._origin_of[key] = origin
            self._last_origin, self._last_key = origin, key
        if warm:  # handled before the restart: rebuild windows and throttles, output nothing, move no checkpoint
            self._warm.add(origin)
            self._events(self.assembler.feed(raw), warm=True)
            return
        if self._warm and origin in self._warm:  # the first new line of this stream: warm-up's open event is warm
            self._warm.discard(origin)
            self._events(self.assembler.flush_stream(origin), warm=True)
        previous = self._read.get(key)
        time_ns = raw.docker_time or 0
        seen = previous[2] + 1 if previous is not None and previous[1] == time_ns else 1
        current = (raw.origin.container_id, time_ns, seen)  # a tuple: a frozen Checkpoint per line costs 1.35 us
        self._read[key] = current
        self.counters.lines[name] = self.counters.lines.get(name, 0) + 1
        self._lines[key] += 1
        self._last_time[name] = time_ns
        self._events(self.assembler.feed(raw))
        held = self.assembler.held(raw.origin)
        if held == 0:
            self._safe[key] = current
        elif held == 1 and previous is not None:
            self._safe[key] = previous  # only this line is held: everything before it is handled

    def _events(self, events: Sequence[Event], warm: bool = False) -> None:
        if not warm:
            for event in events:
                self.counters.events += 1
                self._parsed[(event.parser,)] += 1
                for flag in event.flags:
                    self._flags[(flag,)] += 1
                if self.events_out is not None:
                    self.events_out.write(self._redactor.event_json(event) + b"\n")
        deferred = self._deferred
        if deferred is not None:  # inside a batch of lines: to the engine at its end (_handle_lines)
            for event in events:
                deferred.append((event, warm))
            return
        if warm:
            self._rebuild(events)
            return
        for event in events:
            alerts = self.engine.process(event)
            if alerts:
                self._observe(alerts)

    def _rebuild(self, events: Sequence[Event]) -> None:
        """Warm events, handled before a restart: they rebuild windows and throttles and output nothing."""
        # log-derived metrics counted these before the restart: off while they only rebuild rule state
        metrics, self.engine.metrics = self.engine.metrics, None
        for event in events:
            # what it saw was counted before the restart. A rule that raises now is disabled now, and that is
            # news: reported like any other time
            disabled = [a for a in self.engine.process(event) if a.rule == DISABLED_RULE]
            if disabled:
                self._observe(disabled)
        self.engine.metrics = metrics

    def _observe(self, alerts: list[Alert]) -> None:
        for notification in self.book.observe_all(alerts):
            self._notify(notification)

    def _notify(self, notification: Notification) -> None:
        """Print and commit a notification; a silenced one is only recorded (in its incident), a folded one only
        goes to Sentry as a breadcrumb on its cause's trail."""
        self._fired[(notification.rule, notification.kind)] += 1
        if notification.silenced:
            self.silenced += 1
            return
        self.counters.alerts += 1
        self._pending_alerts.append(notification)
        if notification.folded_into is None:
            if notification.kind == "firing":
                self._alerts_by_rule[notification.rule] += 1  # the live view's pages, by rule
            self.deliver(notification)

    def _commit_alerts(self) -> None:
        """A batch's alerts go to the outbox in one transaction, before any checkpoint moves past their lines."""
        if self.fleet is not None:  # of a fleet's instances, the one that claims a notification sends it
            self._pending_alerts = self.fleet.settle(self._pending_alerts)
        if self._pending_alerts:
            if self.dispatcher is not None:
                self.dispatcher.enqueue_many(self._pending_alerts)
            self._pending_alerts = []

    def _idle(self) -> None:
        if self._held and self._readers_caught_up():
            self._release_until(None)
        flushed = self.assembler.flush_idle()
        if self._warm:  # a stream quiet since its warm-up: its open event was handled before the restart
            warm = [event for event in flushed if event.origin in self._warm]
            flushed = [event for event in flushed if event.origin not in self._warm]
            self._warm.difference_update([event.origin for event in warm])
            self._events(warm, warm=True)
        self._events(flushed)
        if flushed:
            self._mark_all_safe()
        if not self._held and self._caught_up_and_idle():  # only then may the clock move time
            alerts = self.engine.advance(time.time_ns() - LATENESS)
            if alerts:
                self._observe(alerts)
        if time.monotonic() - self._silences_at >= SILENCES_EVERY:
            fleet = self.fleet  # a fleet's silences are the fleet's
            self.book.silences.refresh(fleet.silences() if fleet is not None else self.store.silences(time.time_ns()))
            self._silences_at = time.monotonic()
        if self.fleet is not None:
            self.fleet.tick()  # one round trip: this instance's buckets out, the fleet's in
        if self.engine.watermark is not None:
            for notification in self.book.advance(self.engine.watermark):
                self._notify(notification)
        # alerts are committed here, every 0.1 s, and before each checkpoint save: one fsync per tick, not per
        # read (at 1,000 lines/s a reader hands over many small batches, and an fsync each made the latency)
        self._commit_alerts()

    def _caught_up_and_idle(self) -> bool:
        """No line for LATENESS, and the readers past their start: a reader slow to start (the Engine API under
        load) has not delivered its backlog yet, and time must not run ahead of it."""
        now = time.monotonic()
        if now - self._last_arrival < LATENESS / 1e9:
            return False
        return self._arrived or now - self._started >= STARTUP_GRACE

    def _mark_all_safe(self) -> None:
        for key, position in self._read.items():
            origin = self._origin_of.get(key)
            if origin is None or self.assembler.held(origin) == 0:
                self._safe[key] = position

    def _drain(self) -> None:
        """Handle what the readers already queued before stopping (no line read is left behind unhandled)."""
        while True:
            try:
                kind, name, payload = self.queue.get_nowait()
            except queue.Empty:
                return
            if kind == "lines":
                self._handle_lines(name, payload)
            elif kind == "events":
                self._hold_docker_events(payload)
            elif kind == "readings":
                self._hold_readings(payload)
            elif kind == "warm readings":
                self._hold_readings(payload, warm=True)

    def _hold_docker_events(self, items: Sequence[tuple[Event, bool, tuple[int, int]]]) -> None:
        for event, warm, position in items:
            heapq.heappush(self._held, (event.time, next(self._arrivals), event, warm, position))
        self._release_if_caught_up()

    def _hold_readings(self, events: Sequence[Event], warm: bool = False) -> None:
        if warm:  # kept from before a restart: those older than any warm-up line go first, now (a day of them
            # would fill the heap and push everything through out of order)
            earlier = sorted((e for e in events if self._warm_from is None or e.time < self._warm_from), key=_time)
            self._events(earlier, warm=True)
            events = [e for e in events if self._warm_from is not None and e.time >= self._warm_from]
        for event in events:
            heapq.heappush(self._held, (event.time, next(self._arrivals), event, warm, None))
        self._release_if_caught_up()

    def _release_if_caught_up(self) -> None:
        if len(self._held) > MAX_HELD or self._readers_caught_up():
            self._release_until(None)

    def _readers_caught_up(self) -> bool:
        """The readers are at the present: quiet for LATENESS since any was attaching or reading a backlog, or
        the last line read is that recent. Until then held events wait, so they never move event time past lines
        not read yet."""
        if any(r.is_alive() and r.state in ("starting", "reading an exited container") for r in self.readers):
            self._readers_busy_at = time.monotonic()  # a reader is attaching or reading a backlog to its end
        quiet = time.monotonic() - max(self._last_arrival, self._readers_busy_at) >= LATENESS / 1e9
        return quiet or time.time_ns() - max(self._last_time.values(), default=0) < LATENESS

    def _release_until(self, until: int | None) -> None:
        """Hand the held events of time <= until (all of them for None) to the engine, oldest first."""
        held = self._held
        while held and (until is None or held[0][0] <= until):
            _, _, event, warm, position = heapq.heappop(held)
            self._events([event], warm)
            if position is not None and not warm:
                self._safe[(EVENTS, EVENTS)] = ("", *position)

    def _save(self) -> None:
        self._commit_alerts()  # never a checkpoint past a line whose alert is not in the outbox
        outputs = {}
        if self.events_out is not None:
            self.events_out.flush()
            if self._output is not None:
                os.fsync(self.events_out.fileno())  # on disk before the checkpoint that counts it
                outputs[self._output] = os.fstat(self.events_out.fileno()).st_size
        changed: dict[str, dict[str, Checkpoint]] = {}
        for (name, stream), (container_id, time_ns, seen) in self._safe.items():
            position = Checkpoint(container_id, time_ns, seen)
            if self._saved.get((name, stream)) != position:
                changed.setdefault(name, {})[stream] = position
        incidents = self.book.snapshot()
        if changed or outputs or incidents:
            self.store.save_progress(changed, outputs, incidents)
        for name, positions in changed.items():
            for stream, position in positions.items():
                self._saved[(name, stream)] = position
        self._saved_at = time.monotonic()
        self._report()

    def _report(self) -> None:
        """Push what was counted since the last save to the metrics, and the readers' state to the health."""
        telemetry = self.telemetry
        telemetry.add(telemetry.lines, self._lines)
        telemetry.add(telemetry.events, self._parsed)
        telemetry.add(telemetry.anomalies, self._flags)
        telemetry.add(telemetry.alerts, self._fired)
        for counts in (self._lines, self._parsed, self._flags, self._fired):
            counts.clear()
        now = time.time_ns()
        for name, last in self._last_time.items():
            telemetry.read_lag.labels(name).set(max(0.0, (now - last) / 1e9))
        telemetry.queue_depth.set(self.queue.qsize())
        for reader in self.readers:
            _count_into(telemetry.reconnects, reader.container, reader.reconnects, self._reconnects)
            _count_into(telemetry.skipped, reader.container, reader.skipped, self._skipped)
            telemetry.degraded(f"docker:{reader.container}", reader.problem)
        telemetry.degraded("docker:events", self.watcher.problem)
        for rule, why in self.engine.disabled.items():
            telemetry.degraded(f"rule:{rule}", f"disabled after an error: {why}")
        for live in self.engine.active:
            if live is not None and live.overflowed:
                telemetry.group_overflow.labels(live.info.id).set(live.overflowed)
        if self.view is not None:
            self.view(self._snapshot(now))

    def _snapshot(self, now: int) -> Snapshot:
        elapsed = max(1e-3, time.monotonic() - self._reported_at)
        self._reported_at = time.monotonic()
        rows = []
        for reader in self.readers:
            name = reader.container
            lines = self.counters.lines.get(name, 0)
            rate = (lines - self._lines_at_report.get(name, 0)) / elapsed
            self._lines_at_report[name] = lines
            last = self._last_time.get(name)
            lag = None if last is None else max(0.0, (now - last) / 1e9)
            rows.append(ContainerRow(name, reader.problem or reader.state, lines, rate, lag))
        return Snapshot(rows, collections.Counter(self._alerts_by_rule), self.telemetry.problems())


def _time(event: Event) -> int:
    return event.time


def _count_into(
    metric: Any, container: str, counts: collections.Counter[str], told: dict[tuple[str, str], int]
) -> None:
    """Add what a reader counted (by reason) since the last report to a labelled Prometheus counter."""
    for reason, count in list(counts.items()):
        added = count - told.get((container, reason), 0)
        if added:
            metric.labels(container, reason).inc(added)
            told[(container, reason)] = count


def _committed_output(events_out: BinaryIO | None, store: StateStore) -> str | None:
    """The event output's path when it is a regular file, after cutting it back to the length saved with the
    checkpoints (what lies beyond was written from lines that will be read again). None for a pipe or terminal."""
    if events_out is None:
        return None
    try:
        info = os.fstat(events_out.fileno())
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    path = os.path.realpath(events_out.name)
    committed = store.output_size(path)
    if committed is None:
        store.save_progress({}, {path: info.st_size})  # a kill before the first save cuts back to here
    elif info.st_size > committed:
        log.info("cutting the event output back to its last checkpoint", path=path, removed=info.st_size - committed)
        os.ftruncate(events_out.fileno(), committed)
    elif info.st_size < committed:
        log.warning("the event output is shorter than logpipe wrote; was it truncated?", path=path)
        store.save_progress({}, {path: info.st_size})
    return path


def parse_since(text: str) -> int:
    """`now`, `beginning`, or a duration back from now (`5m`), as ns since the epoch."""
    from logpipe.engine.durations import parse_duration

    if text == "now":
        return time.time_ns()
    if text == "beginning":
        return 0
    return time.time_ns() - parse_duration(text)


def dump_counters(counters: Counters) -> bytes:
    return orjson.dumps({"lines": counters.lines, "events": counters.events, "alerts": counters.alerts})
