"""The follower's trends, kept for the report: what its log-derived metrics counted, minute by minute, in
trends.sqlite beside state.sqlite, for `keep` (report.keep, 48 hours by default).

No per-event work: a thread of its own snapshots the MetricSet every FLUSH_EVERY seconds (as a Prometheus scrape
does) and adds the increase since the previous snapshot to the row of the current wall-clock minute, one row per
(minute, series). Each flush also writes a heartbeat series, so a minute without a row is a minute no follower
ran, and copies the latest container memory reading from readings.sqlite (which keeps the stats readings for an
hour at most) into a per-minute table of its own. The report (report/fromstate.py) rebuilds its per-minute request
rate, 5xx share and p95 (a histogram bucket's upper bound) from these rows.

A kill -9 loses what was counted since the last flush (FLUSH_EVERY seconds at most); a stop flushes first. Lines a
restarted follower reads from its backlog are counted in the minute they are read, not the minute they were logged.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import structlog

from logpipe.engine.metrics.export import samples
from logpipe.engine.metrics.model import MetricSet
from logpipe.errors import StateError
from logpipe.report.background import BackgroundJob
from logpipe.state.directory import connect_read_only, database_error, open_side_database

log = structlog.get_logger("logpipe.trends")
TRENDS_FILE = "trends.sqlite"  # in the state directory
MINUTE = 60_000_000_000
FLUSH_EVERY = 10.0  # seconds between snapshots of the metrics
PRUNE_EVERY = 600 * 10**9  # ns (of `clock`) between deletions of rows past `keep`; the first flush prunes
HEARTBEAT = "logpipe_trend_flushes_total"  # one per flush: the minute had a follower running
EVENTS = "logpipe_events_total"  # the events the follower parsed (logpipe's own counter)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    sample TEXT NOT NULL UNIQUE   -- name{label="value",...}, as logpipe/engine/metrics/export.py samples() names it
);
CREATE TABLE IF NOT EXISTS counts (
    minute INTEGER NOT NULL,      -- wall-clock minute start (ns since the epoch, UTC)
    series INTEGER NOT NULL REFERENCES series (id),  -- a number, not the name: a fifth of the size
    increase REAL NOT NULL,       -- what the series counted in that minute
    PRIMARY KEY (minute, series)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS memory (
    minute INTEGER NOT NULL,
    container TEXT NOT NULL,
    mib REAL NOT NULL,            -- the minute's last `docker stats` reading (cache excluded)
    PRIMARY KEY (minute, container)
) WITHOUT ROWID;
"""


@dataclass
class TrendRows:
    """What trends.sqlite holds over a period."""

    counts: dict[int, dict[str, float]] = field(default_factory=dict)  # minute -> sample -> increase
    memory: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # container -> (minute, MiB)


class TrendStore:
    """One SQLite file; the recorder writes from its thread, readers (the digest, `logpipe report --state-dir`)
    read; `read_only` opens an existing file without creating or changing it (beside a running follower)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}  # series name -> id, as stored
        if read_only:
            try:
                self._db = connect_read_only(path, timeout=10)
            except sqlite3.Error as error:
                raise database_error(path, error) from None
        else:
            self._db = open_side_database(path, _SCHEMA)

    def add(self, minute: int, increases: Mapping[str, float], memory: Mapping[str, float]) -> None:
        """Add the increases to the minute's rows, and set its memory readings, in one transaction."""
        with self._lock:
            try:
                with self._db:  # a transaction (BEGIN ... COMMIT) even in autocommit mode
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT INTO counts VALUES (?, ?, ?) "
                        "ON CONFLICT (minute, series) DO UPDATE SET increase = increase + excluded.increase",
                        [(minute, self._id(sample), value) for sample, value in increases.items()],
                    )
                    self._db.executemany(
                        "INSERT OR REPLACE INTO memory VALUES (?, ?, ?)",
                        [(minute, container, mib) for container, mib in memory.items()],
                    )
            except sqlite3.Error as error:
                self._ids.clear()  # ids stored in the rolled-back transaction are not stored
                raise database_error(self.path, error) from None

    def _id(self, sample: str) -> int:
        """The series' id, stored on first sight (under the lock, in the caller's transaction)."""
        known = self._ids.get(sample)
        if known is None:
            self._db.execute("INSERT OR IGNORE INTO series (sample) VALUES (?)", (sample,))
            (known,) = self._db.execute("SELECT id FROM series WHERE sample = ?", (sample,)).fetchone()
            self._ids[sample] = known
        return int(known)

    def prune(self, before: int) -> None:
        """Delete the rows of the minutes before `before` (ns)."""
        with self._lock:
            try:
                self._db.execute("DELETE FROM counts WHERE minute < ?", (before,))
                self._db.execute("DELETE FROM memory WHERE minute < ?", (before,))
            except sqlite3.Error as error:
                raise database_error(self.path, error) from None

    def rows(self, since: int, until: int) -> TrendRows:
        """The rows of the minutes that overlap [since, until] (ns)."""
        start = since // MINUTE * MINUTE
        out = TrendRows()
        with self._lock:
            try:
                counts = self._db.execute(
                    "SELECT c.minute, s.sample, c.increase FROM counts c JOIN series s ON s.id = c.series "
                    "WHERE c.minute >= ? AND c.minute <= ? ORDER BY c.minute",
                    (start, until),
                ).fetchall()
                memory = self._db.execute(
                    "SELECT minute, container, mib FROM memory WHERE minute >= ? AND minute <= ? ORDER BY minute",
                    (start, until),
                ).fetchall()
            except sqlite3.Error as error:
                raise database_error(self.path, error) from None
        for minute, sample, value in counts:
            out.counts.setdefault(minute, {})[sample] = value
        for minute, container, mib in memory:
            out.memory.setdefault(container, []).append((minute, mib))
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()


def increases(before: Mapping[str, float], current: Mapping[str, float]) -> dict[str, float]:
    """What each series counted between two snapshots, the zero ones left out. A series that went down (a rule
    reload or a restart's fresh MetricSet started it again from zero) counted its whole current value."""
    out = {}
    for key, value in current.items():
        previous = before.get(key, 0.0)
        counted = value - previous if value >= previous else value
        if counted:
            out[key] = counted
    return out


def counted(metric_set: MetricSet | None) -> dict[str, float]:
    """The cumulative samples of the counters and histograms (gauges are not counts)."""
    if metric_set is None:
        return {}
    gauges = {metric.name for metric in metric_set.metrics if metric.type == "gauge"}
    return {
        key: value
        for key, value in samples(metric_set).items()
        if not key.startswith("logpipe_") and key.split("{", 1)[0] not in gauges
    }


class TrendRecorder(BackgroundJob):
    """Snapshots the follower's metrics into a TrendStore every FLUSH_EVERY seconds, on its own thread."""

    thread_name = "trends"

    def __init__(
        self,
        store: TrendStore,
        metrics: Callable[[], MetricSet | None],
        keep: int,
        events: Callable[[], float] | None = None,
        readings: Path | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """`keep`: ns of rows kept; `events`: the follower's count of parsed events; `readings`: readings.sqlite,
        where the resource thread keeps the `docker stats` readings (absent when nothing reads stats)."""
        super().__init__()
        self.store, self.metrics, self.keep, self.events = store, metrics, keep, events
        self.readings, self.clock = readings, clock
        self._metric_set: MetricSet | None = None
        self._last = self._snapshot()
        self._memory_since = clock() - MINUTE
        self._readings_db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pruned_at: int | None = None
        self.failing = False

    def _on_stop(self) -> None:
        """Flush what was counted since the last flush."""
        try:
            self.flush()
        except StateError as error:
            log.error("trends not saved", error=str(error))
        if self._readings_db is not None:
            self._readings_db.close()
        self.store.close()

    def _run(self) -> None:
        while not self._stopping.wait(FLUSH_EVERY):
            try:
                self.flush()
            except StateError as error:  # the disk: the increase stays counted, the next flush tries again
                if not self.failing:
                    log.error("trends not saved, will retry", error=str(error))
                self.failing = True
            else:
                self.failing = False

    def flush(self, now: int | None = None) -> None:
        """Add what the metrics counted since the previous flush to the current minute (the digest calls this
        before it builds the report, so the report reaches `now`)."""
        with self._lock:
            now = self.clock() if now is None else now
            current = self._snapshot()
            counted_now = increases(self._last, current)
            counted_now[HEARTBEAT] = 1.0
            self.store.add(now // MINUTE * MINUTE, counted_now, self._memory(now))
            self._last = current  # only once stored: a failed write is added to the next flush
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                self.store.prune(now - self.keep)
                self._pruned_at = now

    def _snapshot(self) -> dict[str, float]:
        """The metrics' counts now; during a restart's warm-up the follower turns its metrics off (None): the last
        set seen still holds this process's counts."""
        self._metric_set = self.metrics() or self._metric_set
        current = counted(self._metric_set)
        if self.events is not None:
            current[EVENTS] = self.events()
        return current

    def _memory(self, now: int) -> dict[str, float]:
        """The latest memory reading (MiB) per container since the previous flush, from readings.sqlite."""
        if self.readings is None or not self.readings.exists():
            return {}
        try:
            if self._readings_db is None:
                self._readings_db = connect_read_only(self.readings, timeout=5)
            rows = self._readings_db.execute(
                "SELECT time, name, record FROM readings WHERE logger = 'stats' AND time > ? ORDER BY time",
                (self._memory_since,),
            ).fetchall()
        except sqlite3.Error as error:  # the readings are a hint: the trends go on without memory
            log.warning("container memory not read for the trends", error=str(error))
            return {}
        latest: dict[str, float] = {}
        for at, name, record in rows:
            self._memory_since = max(self._memory_since, at)
            used = _memory_used(record)
            if used is not None:
                latest[name] = used / 2**20
        return latest


def _memory_used(record: bytes | str) -> float | None:
    """A stats reading's memory in use, or None: a stopped container's reading has no `used`, and a reading is
    data from outside, so any other shape is skipped too (the trends go on without that minute's memory)."""
    try:
        reading = orjson.loads(record)
    except orjson.JSONDecodeError:
        return None
    stats = reading.get("stats") if isinstance(reading, dict) else None
    memory = stats.get("memory") if isinstance(stats, dict) else None
    used = memory.get("used") if isinstance(memory, dict) else None
    return used if isinstance(used, (int, float)) and not isinstance(used, bool) else None


def load_rows(state_dir: Path, since: int, until: int) -> TrendRows:
    """The trends a follower kept in `state_dir` (none when it never recorded any)."""
    path = state_dir / TRENDS_FILE
    if not path.exists():
        return TrendRows()
    store = TrendStore(path, read_only=True)
    try:
        return store.rows(since, until)
    finally:
        store.close()
