"""The live loop behind `logpipe follow`: items from the Docker readers (and the probe and resource threads) ->
assembler -> engine -> incident book -> outlet, with checkpoints that only advance past lines whose events are fully
handled (checkpoints.py), events from other threads held until the lines reach their time (held.py), and counts
pushed to the metrics and the live view at each save (stats.py). agent/build.py puts it together.

Time: the engine and the incident book run on event time. The wall clock moves the watermark only when no line
has arrived for LATENESS (every stream caught up and idle): during a warm-up or a backlog, time comes from the
lines, so a restart fires what a replay of the same lines fires.

Warm-up: after a restart, the readers first re-read the rules' memory of lines before each checkpoint, marked
warm: they rebuild windows and throttles and output nothing (their notifications were made before the restart).
The incident book's changed incidents are saved with the checkpoints, so after a restart they are as the
checkpointed lines left them: the re-read lines count once more into nothing already counted, and the
notifications they make again have the same ids (incident, number) and are kept once by the outbox.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

import structlog

from logpipe.agent.checkpoints import Checkpointer
from logpipe.agent.held import HeldEvents
from logpipe.agent.outlet import Outlet, Shared
from logpipe.agent.readers import LATENESS, Readers
from logpipe.agent.reload import Reload
from logpipe.agent.signals import Signals
from logpipe.agent.stats import Counters, FollowStats
from logpipe.alert import Alert
from logpipe.engine import Engine
from logpipe.engine.engine import DISABLED_RULE
from logpipe.event import Event, Origin, RawLine
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.parsers import Assembler

log = structlog.get_logger("logpipe.follow")
SAVE_EVERY = 0.5  # seconds between checkpoint saves
TICK_EVERY = 0.1  # seconds between idle ticks: assembler flush, clock, timers, outbox commit
STARTUP_GRACE = 30.0  # seconds: with nothing read yet, how long before the clock may move time anyway (silence)
SILENCES_EVERY = 1.0  # how often the silences are re-read (`logpipe silence add` elsewhere)


class Follower:
    def __init__(
        self,
        readers: Readers,
        engine: Engine,
        book: IncidentBook,
        checkpoints: Checkpointer,
        stats: FollowStats,
        outlet: Outlet,
        shared: Shared,
        reload: Reload | None = None,
    ) -> None:
        """`shared`: the fleet's sync, or Alone; `reload`: SIGHUP's loader (the new rules, or None when they have
        errors: logged, and the running set stays)."""
        self.readers, self.engine, self.book, self.checkpoints = readers, engine, book, checkpoints
        self.stats, self.outlet, self.shared, self.reload = stats, outlet, shared, reload
        self.assembler = Assembler()
        self.held = HeldEvents()
        # set on a signal (agent/signals.py), read by the loop: plain attributes, no lock (a signal handler may
        # interrupt code holding one)
        self._stop_asked = self._reload_asked = False
        self._last_arrival = self._started = time.monotonic()
        self._arrived = False  # any log line handed over yet
        self._silences_at = 0.0
        self._warm: set[Origin] = set()
        # while a reader's batch of lines is handled: its events (and the held ones released between them), in
        # order, for the engine at the batch's end, so the prefilter scans them in one call (Engine.prescan)
        self._deferred: list[tuple[Event, bool]] | None = None
        # where the warm-up re-read of the logs starts (the oldest checkpoint less the rules' memory); None: no
        # checkpoint, so no warm-up lines to merge with
        resumed = checkpoints.resumed_from(readers.names)
        self._warm_from = resumed - engine.ruleset.memory() if resumed is not None else None

    @property
    def names(self) -> list[str]:
        return self.readers.names

    @property
    def queue(self) -> queue.Queue[Any]:
        return self.readers.queue

    @property
    def stopping(self) -> threading.Event:
        return self.readers.stopping

    def stop(self, *_: object) -> None:
        """SIGTERM, SIGINT: the loop stops at its next turn (within TICK_EVERY). A flag only (see __init__)."""
        self._stop_asked = True

    def ask_reload(self, *_: object) -> None:
        """SIGHUP: reload between batches, on the follower's own thread. A flag only: a burst is one reload."""
        self._reload_asked = True

    def run(self, signals: Signals | None = None) -> Counters:
        """Follow until stopped; `signals` (agent/signals.py) stop and reload it."""
        if signals is not None:
            signals.attach(self.stop, self.ask_reload)
        self.readers.start()
        ended: set[str] = set()
        input_ended = False
        last_save = last_tick = time.monotonic()
        stopping, items = self.readers.stopping, self.readers.queue
        try:
            while not stopping.is_set():
                if self._stop_asked:
                    stopping.set()  # for the readers' threads: set here, outside any signal handler
                    break
                try:
                    kind, name, payload = items.get(timeout=0.1)
                except queue.Empty:
                    kind, name, payload = "", "", None
                if kind == "ended":
                    ended.add(name)
                elif kind == "missing":  # --wait-for passed with no container of that name: stop, and say so
                    self.stats.counters.missing.append(payload)
                    stopping.set()
                elif kind:
                    self.handle(kind, name, payload)
                if self._reload_asked:
                    self._reload()
                now = time.monotonic()
                if now - last_tick >= TICK_EVERY:
                    self.tick()
                    last_tick = now
                if now - last_save >= SAVE_EVERY:
                    self.save()
                    last_save = now
                if self.readers.options.until_exit and self.readers.all_read(ended):
                    input_ended = True
                    break
        finally:
            self.finish(input_ended)
        return self.stats.counters

    def finish(self, input_ended: bool = False) -> None:
        """Stop: what the readers queued is handled, the held events let through (no later line will come), the
        open events flushed, and everything saved. `input_ended` (--until-exit, every container read): the end
        closes the incidents, as a replay's does."""
        self.readers.stopping.set()
        self._drain()
        self._release(None)
        for origin in list(self._warm):  # warm-ups no new line followed: their open events were handled before
            self._events(self.assembler.flush_stream(origin), warm=True)
        self._warm.clear()
        self._events(self.assembler.flush())
        if input_ended:
            self._observe(self.engine.finish())
            for notification in self.book.finish(self.engine.watermark or 0):
                self._notify(notification)
        self.checkpoints.all_handled(self.assembler.held)
        self.save()
        self.readers.join(timeout=5)

    def handle(self, kind: str, name: str, payload: Any) -> None:
        """One item from the queue: a reader's lines, Docker events, readings, a container discovered."""
        if kind == "lines":
            self._last_arrival, self._arrived = time.monotonic(), True
            self.handle_lines(name, payload)
        elif kind == "events":
            self._last_arrival = time.monotonic()
            for event, warm, position in payload:
                self.held.hold(event, warm, position)
            self._release_if_caught_up()
        elif kind == "discovered":
            self.readers.follow(name)
        elif kind == "readings":  # probe, stats and disk events (agent/monitors.py)
            self._hold_readings(payload)
        elif kind == "warm readings":  # kept from before a restart (sources/probes/readinglog.py): windows only
            self._hold_readings(payload, warm=True)

    def handle_lines(self, name: str, payload: Sequence[tuple[RawLine, bool]]) -> None:
        """A reader's batch of lines. The engine sees their events at the batch's end, in the order they came,
        scanned for the prefilter's patterns in one call: hyperscan's cost per call was most of the prefilter's
        per line. Nothing between reads depends on the engine's answers (checkpoints are saved, and notifications
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

    def _line(self, name: str, raw: RawLine, warm: bool) -> None:
        if self.held.due_by(raw.docker_time or 0):
            self._release(raw.docker_time or 0)  # the events and readings older than this line go first
        origin = raw.origin
        key = self.checkpoints.key(name, origin)
        if warm:  # handled before the restart: rebuild windows and throttles, output nothing, move no checkpoint
            self._warm.add(origin)
            self._events(self.assembler.feed(raw), warm=True)
            return
        if self._warm and origin in self._warm:  # the first new line of this stream: warm-up's open event is warm
            self._warm.discard(origin)
            self._events(self.assembler.flush_stream(origin), warm=True)
        self.checkpoints.read(key, raw)
        self.stats.line(name, key, raw.docker_time or 0)
        self._events(self.assembler.feed(raw))
        self.checkpoints.assembled(key, self.assembler.held(origin))

    def _events(self, events: Sequence[Event], warm: bool = False) -> None:
        if not warm:
            output = self.checkpoints.output
            for event in events:
                self.stats.event(event)
                if output is not None:
                    output.write(event)
        deferred = self._deferred
        if deferred is not None:  # inside a batch of lines: to the engine at its end (handle_lines)
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
        self.stats.notification(notification)
        self.outlet.send(notification)

    def tick(self, now: int | None = None) -> None:
        """Every TICK_EVERY (`now`: the wall clock, ns): held events let through once the readers are at the
        present, idle streams flushed, the clock moving time when every stream is idle, the silences re-read, the
        fleet synced, the incident timers run, and the notifications committed (one fsync per tick, not per read:
        at 1,000 lines/s a reader hands over many small batches, and an fsync each made the latency)."""
        if len(self.held) and self._readers_at_present():
            self._release(None)
        now = time.time_ns() if now is None else now
        flushed = self.assembler.flush_idle(now)
        if self._warm:  # a stream quiet since its warm-up: its open event was handled before the restart
            warm = [event for event in flushed if event.origin in self._warm]
            flushed = [event for event in flushed if event.origin not in self._warm]
            self._warm.difference_update([event.origin for event in warm])
            self._events(warm, warm=True)
        self._events(flushed)
        if flushed:
            self.checkpoints.all_handled(self.assembler.held)
        if not len(self.held) and self._caught_up_and_idle():  # only then may the clock move time
            alerts = self.engine.advance(now - LATENESS)
            if alerts:
                self._observe(alerts)
        if time.monotonic() - self._silences_at >= SILENCES_EVERY:
            self.book.silences.refresh(self.shared.silences())
            self._silences_at = time.monotonic()
        self.shared.tick()  # a fleet: one round trip, this instance's buckets out, the fleet's in
        if self.engine.watermark is not None:
            for notification in self.book.advance(self.engine.watermark):
                self._notify(notification)
        self.outlet.commit()

    def save(self) -> None:
        """Commit the notifications, then move the checkpoints (never past a line whose notification is not in
        the outbox), with the incidents' changes; push the counts to the metrics and the view."""
        self.outlet.commit()
        if not self.shared.holding():  # else a notification waits for the fleet's answer, in no outbox yet: no
            self.checkpoints.save(self.book.snapshot())  # checkpoint moves past its line (a crash makes it again)
        self.stats.report(self.readers.readers, self.readers.watcher.problem, self.engine, self.readers.queue.qsize())

    def _reload(self) -> None:
        self._reload_asked = False
        reload = self.reload
        reloaded = reload() if reload is not None else None
        if reload is None or reloaded is None:
            return  # refused (the loader logged each problem with file:line): the old rules keep running
        self.engine.reload(reloaded.ruleset)
        self.book.load(reloaded.ruleset)
        self.book.silences.windows = list(reloaded.maintenance)
        self.outlet.reroute(reloaded.route)
        log.info("rules reloaded", rules=len(reloaded.ruleset.rules), maintenance_windows=len(reloaded.maintenance))
        reload.taken(reloaded)

    def _caught_up_and_idle(self) -> bool:
        """No line for LATENESS, and the readers past their start: a reader slow to start (the Engine API under
        load) has not delivered its backlog yet, and time must not run ahead of it."""
        now = time.monotonic()
        if now - self._last_arrival < LATENESS / 1e9:
            return False
        return self._arrived or now - self._started >= STARTUP_GRACE

    def _drain(self) -> None:
        """Handle what the readers already queued before stopping (no line read is left behind unhandled)."""
        while True:
            try:
                kind, name, payload = self.readers.queue.get_nowait()
            except queue.Empty:
                return
            if kind in ("lines", "events", "readings", "warm readings"):
                self.handle(kind, name, payload)

    def _hold_readings(self, events: Sequence[Event], warm: bool = False) -> None:
        if warm:  # kept from before a restart: those older than any warm-up line go first, now (a day of them
            # would fill the heap and push everything through out of order)
            earlier = sorted((e for e in events if self._warm_from is None or e.time < self._warm_from), key=_time)
            self._events(earlier, warm=True)
            events = [e for e in events if self._warm_from is not None and e.time >= self._warm_from]
        for event in events:
            self.held.hold(event, warm)
        self._release_if_caught_up()

    def _release_if_caught_up(self) -> None:
        if self.held.overfull() or self._readers_at_present():
            self._release(None)

    def _readers_at_present(self) -> bool:
        return self.readers.at_present(self._last_arrival, max(self.stats.last_time.values(), default=0))

    def _release(self, until: int | None) -> None:
        """Hand the held events of time <= until (all of them for None) to the engine, oldest first."""
        for event, warm, position in self.held.release(until):
            self._events([event], warm)
            if position is not None and not warm:
                self.checkpoints.events_handled(position)


def _time(event: Event) -> int:
    return event.time
