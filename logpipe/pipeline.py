"""Wire the stages together: source -> assembler (partial merge, multi-line, parsers) -> events -> engine -> alerts
-> incident book -> notifications -> the fan-out (printed, and committed to the outbox). `logpipe replay`, `logpipe
metrics` and the report run a saved input through these; the follower (agent/follower.py) runs the same stages on
live input and sends through the same Fanout."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from logpipe.event import Event, RawLine
from logpipe.incidents.silences import SilenceList
from logpipe.parsers import Assembler

if TYPE_CHECKING:  # `logpipe parse` needs neither: no pydantic, hyperscan or ddsketch loaded for it
    from logpipe.alert import Alert
    from logpipe.config.settings import Config
    from logpipe.engine import Engine
    from logpipe.incidents.book import IncidentBook
    from logpipe.incidents.notification import Notification
    from logpipe.state.store import StateStore

TICK = 1_000_000_000  # the incident book's timers run once per second of event time, as the engine's checks do


def parse_lines(lines: Iterable[RawLine], assembler: Assembler | None = None) -> Iterator[Event]:
    """Every event of a finite input, in order per stream; open multi-line events are flushed at the end."""
    assembler = assembler or Assembler()
    feed = assembler.feed
    for raw in lines:
        yield from feed(raw)
    yield from assembler.flush()


READ_AHEAD = 256  # events a replay reads ahead, so the prefilter scans their texts in one call (Engine.prescan)


def read_ahead(events: Iterable[Event], engine: Engine) -> Iterator[Event]:
    """The events of a saved input, read `READ_AHEAD` at a time and handed to `engine.prescan` before they are
    processed, in the same order: one hyperscan call per batch, not per line. For saved input only (replay,
    `logpipe metrics`, reports): whatever the caller does between events then runs up to a batch early, and a
    follower handles each line as it comes."""
    iterator = iter(events)
    while True:
        batch = list(islice(iterator, READ_AHEAD))
        if not batch:
            return
        engine.prescan(batch)
        yield from batch


def run_rules(events: Iterable[Event], engine: Engine) -> Iterator[Alert]:
    """Every alert of a finite input through the engine, including those its last watermark closes."""
    process = engine.process
    for event in events:
        alerts = process(event)
        if alerts:
            yield from alerts
    yield from engine.finish()


def run_incidents(
    events: Iterable[Event], engine: Engine, book: IncidentBook, quiet_until: int | None = None
) -> Iterator[Notification]:
    """Every notification of a finite input: the engine's alerts through the incident book, on event time; at
    the end, the incidents still open are closed (their last counts in a `resolved`). `quiet_until` (a rule
    test's `until:`): after the input, time moves on to it second by second, as a follower's clock moves it while
    its logs are quiet (engine first, then the incident book's timers), before the end closes what is open."""
    process, observe_all, advance = engine.process, book.observe_all, book.advance
    next_tick = 0
    for event in events:
        alerts = process(event)
        if alerts:
            yield from observe_all(alerts)
        watermark = engine.watermark or 0
        if watermark >= next_tick:
            yield from advance(watermark)
            next_tick = (watermark // TICK + 1) * TICK
    last = engine.watermark
    if quiet_until is not None and last is not None and quiet_until > last:
        for now in [*range(next_tick, quiet_until, TICK), quiet_until]:
            yield from observe_all(engine.advance(now))
            yield from advance(now)
    yield from observe_all(engine.finish())
    yield from book.finish(engine.watermark or 0)


class Fanout:
    """The one place a notification's way out is decided: a silenced one is only recorded (in its incident, for
    `logpipe incidents`), a folded symptom only committed (a breadcrumb on its cause's Sentry trail), every other
    one shown (the console or JSON lines) and committed (the outbox: `commit` is None without one)."""

    def __init__(
        self, show: Callable[[Notification], None], commit: Callable[[Notification], object] | None = None
    ) -> None:
        self.show, self.commit = show, commit
        self.shown = self.silenced = 0

    def send(self, notification: Notification) -> None:
        if notification.silenced:
            self.silenced += 1
            return
        if self.commit is not None:  # kept for the outbox first: whatever befalls the screen, the page is not lost
            self.commit(notification)
        if notification.folded_into is None:
            self.show(notification)
            self.shown += 1


def silences_for(config: Config, store: StateStore | None) -> SilenceList:
    """The silences in the store that have not ended, and the config's maintenance windows."""
    silences = store.records.silences(time.time_ns()) if store is not None else []
    return SilenceList(silences, [window.window() for window in config.maintenance])


def settle_heap() -> None:
    """Call once before the per-line loop. What start-up allocated (modules, rules, regexes, templates) lives as
    long as the process: gc.freeze() takes it out of the cyclic collector's walks, and the young generation is
    collected less often, since per-line objects are freed by reference counting and rarely form cycles. On the
    follower's per-line path (bench/follow_path.py) the collector's time went from 0.41 to 0.00 µs per line, of
    about 12."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
