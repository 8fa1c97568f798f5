"""The probe, stats and disk readings of the recent past, kept in the state directory so that a restarted follower
rebuilds the windows that count them (an uptime over 24 hours), as it rebuilds the log rules' windows by re-reading
the containers' logs: the readings are in no log to re-read.

A SQLite file of its own (readings.sqlite, beside state.sqlite): the readings are written by the probe and
resource threads as they come, without waiting for the follower's checkpoint saves, and pruned to how far back a
rule can look: the longest window or `within` of the rule set for probe events (up to MAX_RETENTION), the log
warm-up's reach (RuleSet.memory(), at most an hour) for stats and disk events, which are many more and feed
5-minute windows. At start the follower gets them as warm-up events: they rebuild windows and say nothing.

What is kept of a probe reading is what the rules read: its fields without the health body (components, health,
uptime and the rest stay), unless a rule names a path under `probe.body`, and then only a body of KEPT_BODY
bytes at most. A body is the endpoint's to choose: kept whole, a day of 256 KiB bodies was 460 MB on disk and
5.4 GB in memory when a restart read them back.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from logpipe.engine.rules import RuleSet
from logpipe.event import Event, Origin
from logpipe.state.directory import database_error, open_side_database

READINGS_FILE = "readings.sqlite"  # in the state directory
MAX_RETENTION = 7 * 86_400_000_000_000  # a week of probe readings at most, whatever the windows say
PRUNE_EVERY = 60.0  # seconds between deletions of readings past their retention
KEPT_BODY = 4096  # bytes of a health body's JSON kept with its reading (a normal one is a few hundred)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    time INTEGER NOT NULL,        -- event time (ns)
    logger TEXT NOT NULL,         -- probe | stats | disk
    name TEXT NOT NULL,           -- the probe's name, the container's, the path
    container_id TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    record TEXT NOT NULL          -- the event's fields as JSON (also its raw text)
);
CREATE INDEX IF NOT EXISTS readings_time ON readings (logger, time);
"""


def retention_for(ruleset: RuleSet) -> dict[str, int]:
    """How long (ns) to keep each logger's readings for this rule set."""
    spans = [
        span
        for rule in ruleset.rules
        for span in (getattr(rule.info.model, "window", None), getattr(rule.info.model, "within", None))
        if span
    ]
    warm_up = ruleset.memory()
    return {"probe": min(max(spans, default=0), MAX_RETENTION), "stats": warm_up, "disk": warm_up}


def bodies_read_by(ruleset: RuleSet) -> bool:
    """Whether a rule, or an extractor's copy, names a path under `probe.body` (then readings keep small bodies)."""
    named = [rule.info.model.model_dump_json(by_alias=True) for rule in ruleset.rules]
    named += [source for extractor in ruleset.extractors for _, source in extractor.copies]
    return any("probe.body" in text for text in named)


class ReadingLog:
    """Thread-safe: the probe and resource threads add, the follower's start reads."""

    def __init__(
        self,
        path: Path,
        retention: dict[str, int],
        on_problem: Callable[[str | None], None] | None = None,
        keep_bodies: bool = False,
    ) -> None:
        """Opens (creates) the file; a StateError saying what to do when it cannot be. `keep_bodies`: a rule reads
        the health body (`bodies_read_by`)."""
        self.path, self.retention, self.keep_bodies = path, retention, keep_bodies
        self.on_problem = on_problem  # told why a write failed (the readings go on without it), and when it works
        self.dropped = 0  # readings not kept: a write failed
        self._lock = threading.Lock()
        self._pruned_at: float | None = None  # the first write prunes (monotonic time starts at boot)
        self._failing = False
        self._db = open_side_database(path, _SCHEMA)

    def add(self, event: Event) -> None:
        """Keep a reading (one whose logger has no retention is not kept). A failed write is counted and reported
        through on_problem, never raised: probing goes on without the log."""
        if not self.retention.get(event.logger):
            return
        origin = event.origin
        record = self._kept(event)
        row = (event.time, event.logger, origin.name, origin.container_id, event.level, event.message, record)
        with self._lock:
            try:
                self._db.execute("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.Error as error:
                self.dropped += 1
                self._failing = True
                if self.on_problem is not None:
                    self.on_problem(f"{database_error(self.path, error)}; {self.dropped} readings not kept")
                return
            if self._pruned_at is None or time.monotonic() - self._pruned_at >= PRUNE_EVERY:
                # a prune that fails (full disk) keeps old rows a while longer: the next one, or the next start's
                with contextlib.suppress(sqlite3.Error):
                    self._prune(time.time_ns())
        if self._failing:
            self._failing = False
            if self.on_problem is not None:
                self.on_problem(None)

    def _kept(self, event: Event) -> str:
        """The reading's fields as kept: a probe's without its body, but for a small one a rule reads."""
        probe = event.fields.get("probe") if event.logger == "probe" else None
        if not isinstance(probe, dict) or "body" not in probe:
            return event.raw
        body = orjson.dumps(probe["body"])
        if self.keep_bodies and len(body) <= KEPT_BODY:
            return event.raw
        return orjson.dumps({**event.fields, "probe": {k: v for k, v in probe.items() if k != "body"}}).decode()

    def recent(self, now: int) -> list[Event]:
        """The readings each logger's retention still covers at `now`, oldest first, as the events they were."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):  # a full disk: the rows stay, the reading below skips them
                self._prune(now)
            try:
                rows = self._db.execute(
                    "SELECT time, logger, name, container_id, level, message, record FROM readings ORDER BY time"
                ).fetchall()
            except sqlite3.Error as error:
                raise database_error(self.path, error) from None
        return [
            Event(
                at, level, message, logger, orjson.loads(record), Origin(logger, name, "", container_id), record, logger
            )
            for at, logger, name, container_id, level, message, record in rows
            if at >= now - self.retention.get(logger, 0)
        ]

    def _prune(self, now: int) -> None:
        """Under the lock."""
        self._pruned_at = time.monotonic()
        for logger in ("probe", "stats", "disk"):  # a rule set without windows now keeps none
            keep = self.retention.get(logger, 0)
            self._db.execute("DELETE FROM readings WHERE logger = ? AND time < ?", (logger, now - keep))

    def close(self) -> None:
        with self._lock:
            self._db.close()
