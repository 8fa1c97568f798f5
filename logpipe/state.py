"""The state store: SQLite in logpipe's state directory. It holds the outbox: every alert, redacted, and its
delivery state per sink, written before any delivery is tried, so nothing is lost when a receiver is down or
logpipe is killed; and the follower's checkpoints, with the committed length of its event output file.

Delivery is at least once to a receiver and exactly once per alert id and sink: the same alert (deterministic id)
is stored once, and a delivery marked done is never tried again. Between sending and marking, a crash can repeat
one send; receivers dedupe by the alert id (Sentry's event_id, the webhook's Idempotency-Key).

A writing store holds the state directory's lock (logpipe/statedir.py): a second logpipe on the same directory
is refused. Delivered rows older than the retention are pruned (`prune`); dead letters are kept.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from logpipe.errors import StateError
from logpipe.incidents.silences import Silence
from logpipe.statedir import DirectoryLock, create_private_file, database_error, make_private_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    sink TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',      -- pending | delivered | dead
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered REAL,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (sink, state, next_attempt);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state, delivered);
CREATE TABLE IF NOT EXISTS checkpoints (
    container TEXT NOT NULL,      -- the followed name
    stream TEXT NOT NULL,         -- stdout | stderr
    container_id TEXT NOT NULL,   -- a recreated container (new id) starts from its own beginning
    time INTEGER NOT NULL,        -- Docker timestamp (ns) of the last line handled
    seen INTEGER NOT NULL,        -- lines handled with exactly that timestamp (they can share one)
    PRIMARY KEY (container, stream)
);
CREATE TABLE IF NOT EXISTS outputs (
    path TEXT PRIMARY KEY,        -- a file logpipe appends events to (--events-out)
    size INTEGER NOT NULL         -- its length when the checkpoints beside it were saved
);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    opened INTEGER NOT NULL,      -- event time (ns)
    closed INTEGER,               -- NULL while open
    record BLOB NOT NULL          -- the incident's whole state (logpipe/incidents/book.py Incident.to_record)
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (closed, opened);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    matchers BLOB NOT NULL,       -- JSON [[label, value], ...]
    starts INTEGER NOT NULL,      -- wall clock (ns)
    ends INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS digests (
    schedule TEXT PRIMARY KEY,    -- the daily digest (logpipe/report/digest.py)
    state BLOB NOT NULL           -- JSON: the last date sent, the period's start, what was counted in it so far
);
"""


STATE_FILE = "state.sqlite"  # in the state directory


@dataclass(frozen=True, slots=True)
class Delivery:
    alert_id: str
    sink: str
    attempts: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a container's stream has been handled: every line up to `time`, and `seen` lines at `time`."""

    container_id: str
    time: int
    seen: int


class OutboxFull(Exception):
    """The outbox holds its maximum of pending deliveries; the caller raises an alert of its own."""


class StateStore:
    """One SQLite file; safe to use from several threads (one connection, serialised by a lock)."""

    def __init__(self, path: Path, max_pending: int = 100_000, exclusive: bool = True) -> None:
        """`exclusive`: take the state directory's lock (every writer does; `logpipe outbox` reads without it)."""
        make_private_dir(path.parent)
        self.path, self.max_pending = path, max_pending
        self._dir_lock = DirectoryLock(path.parent) if exclusive else None
        self._lock = threading.Lock()
        try:
            create_private_file(path)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an alert in the outbox survives a power cut
            self._db.executescript(_SCHEMA)
            # kept in memory (one writer holds the lock): each commit needs it, and counting is a scan
            self._pending: int = self._db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[
                0
            ]
        except (StateError, sqlite3.Error) as error:
            if self._dir_lock is not None:
                self._dir_lock.release()
            if isinstance(error, StateError):
                raise
            raise database_error(path, error) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise database_error(self.path, error) from None

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as error:
                raise database_error(self.path, error) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._dir_lock is not None:
            self._dir_lock.release()

    # --- outbox --------------------------------------------------------------------------------------------------
    def put(self, alert_id: str, payload: dict[str, Any], sinks: Sequence[str], now: float | None = None) -> bool:
        """Store an alert and a pending delivery per sink, in one transaction. False if it was already stored
        (a replay after a crash): nothing is queued twice."""
        return self.put_many([(alert_id, payload, list(sinks))], now)[0]

    def put_many(self, alerts: list[tuple[str, dict[str, Any], list[str]]], now: float | None = None) -> list[bool]:
        """Several alerts in one transaction (one fsync): the follower commits a batch's alerts together."""
        now = time.time() if now is None else now
        stored = []
        pending = self._pending
        with self._transaction() as db:
            for alert_id, payload, sinks in alerts:
                if db.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone():
                    stored.append(False)
                    continue
                if pending + len(sinks) > self.max_pending:
                    raise OutboxFull(f"{pending} deliveries pending (limit {self.max_pending})")
                db.execute(
                    "INSERT INTO alerts (id, created, payload) VALUES (?, ?, ?)",
                    (alert_id, now, orjson.dumps(payload, default=str)),
                )
                db.executemany(
                    "INSERT INTO deliveries (alert_id, sink, next_attempt) VALUES (?, ?, ?)",
                    [(alert_id, sink, now) for sink in sinks],
                )
                pending += len(sinks)
                stored.append(True)
        self._pending = pending
        return stored

    def due(self, sink: str, now: float | None = None, limit: int = 50) -> list[Delivery]:
        now = time.time() if now is None else now
        with self._reading():
            rows = self._db.execute(
                "SELECT d.alert_id, d.attempts, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
                "WHERE d.sink = ? AND d.state = 'pending' AND d.next_attempt <= ? "
                "ORDER BY a.rowid LIMIT ?",  # the order alerts were committed: breadcrumbs before their event
                (sink, now, limit),
            ).fetchall()
        return [Delivery(alert_id, sink, attempts, orjson.loads(payload)) for alert_id, attempts, payload in rows]

    def next_due(self, sink: str) -> float | None:
        with self._reading():
            row = self._db.execute(
                "SELECT min(next_attempt) FROM deliveries WHERE sink = ? AND state = 'pending'", (sink,)
            ).fetchone()
        return row[0] if row else None

    def delivered(self, alert_id: str, sink: str, now: float | None = None) -> None:
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered = ?, last_error = '' "
                "WHERE alert_id = ? AND sink = ? AND state = 'pending'",
                (time.time() if now is None else now, alert_id, sink),
            ).rowcount
        self._pending -= changed

    def failed(self, alert_id: str, sink: str, error: str, retry_at: float | None) -> None:
        """Record a failed attempt: retry at `retry_at`, or dead-letter when None (kept, never deleted)."""
        with self._transaction() as db:
            if retry_at is None:
                changed = db.execute(
                    "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ? "
                    "WHERE alert_id = ? AND sink = ? AND state = 'pending'",
                    (error[:2000], alert_id, sink),
                ).rowcount
                self._pending -= changed
            else:
                db.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, next_attempt = ?, last_error = ? "
                    "WHERE alert_id = ? AND sink = ?",
                    (retry_at, error[:2000], alert_id, sink),
                )

    def pending(self) -> int:
        return self._pending

    def prune(self, older_than: float, now: float | None = None) -> int:
        """Delete deliveries delivered more than `older_than` seconds ago, and alerts left with none; the number
        of deliveries deleted. Dead letters and pending rows stay. (An alert id pruned can be stored again: keep
        the retention longer than any log you might replay.)"""
        cutoff = (time.time() if now is None else now) - older_than
        with self._transaction() as db:
            deleted = db.execute(
                "DELETE FROM deliveries WHERE state = 'delivered' AND delivered < ?", (cutoff,)
            ).rowcount
            db.execute("DELETE FROM alerts WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)")
        return int(deleted)

    def counts(self) -> dict[tuple[str, str], int]:
        """(sink, state) -> number of deliveries."""
        with self._reading():
            rows = self._db.execute("SELECT sink, state, count(*) FROM deliveries GROUP BY sink, state").fetchall()
        return {(sink, state): count for sink, state, count in rows}

    def deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT alert_id, sink, state, attempts, last_error FROM deliveries"
        with self._reading():
            rows = (
                self._db.execute(query + " WHERE state = ? ORDER BY alert_id", (state,))
                if state
                else self._db.execute(query + " ORDER BY alert_id")
            ).fetchall()
        keys = ("alert_id", "sink", "state", "attempts", "last_error")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # --- checkpoints --------------------------------------------------------------------------------------------
    def checkpoints(self, container: str) -> dict[str, Checkpoint]:
        with self._reading():
            rows = self._db.execute(
                "SELECT stream, container_id, time, seen FROM checkpoints WHERE container = ?", (container,)
            ).fetchall()
        return {stream: Checkpoint(container_id, time, seen) for stream, container_id, time, seen in rows}

    def save_progress(
        self,
        positions: dict[str, dict[str, Checkpoint]],
        outputs: dict[str, int],
        incidents: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Move checkpoints (per followed name and stream), output file lengths and incident state together, in
        one transaction: after a crash, an output is cut back to the length that matches the checkpoints, the
        incidents are as those lines left them, and the lines after them are read again, so each line's event
        is written, and each match counted, exactly once."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO incidents (id, rule, opened, closed, record) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET closed = excluded.closed, record = excluded.record",
                [(r["id"], r["rule"], r["opened"], r["closed"], orjson.dumps(r)) for r in incidents],
            )
            db.executemany(
                "INSERT INTO checkpoints (container, stream, container_id, time, seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (container, stream) DO UPDATE SET container_id = excluded.container_id, "
                "time = excluded.time, seen = excluded.seen",
                [
                    (container, stream, cp.container_id, cp.time, cp.seen)
                    for container, streams in positions.items()
                    for stream, cp in streams.items()
                ],
            )
            db.executemany(
                "INSERT INTO outputs (path, size) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size",
                list(outputs.items()),
            )

    # --- incidents and silences -----------------------------------------------------------------------------
    def open_incidents(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM incidents WHERE closed IS NULL ORDER BY opened").fetchall()
        return [orjson.loads(record) for (record,) in rows]

    def incidents(self, limit: int = 50) -> list[dict[str, Any]]:
        """Open incidents, then the most recently opened closed ones."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM incidents ORDER BY closed IS NOT NULL, opened DESC LIMIT ?", (limit,)
            ).fetchall()
        return [orjson.loads(record) for (record,) in rows]

    def add_silence(self, silence: Silence) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO silences (id, rule, matchers, starts, ends, reason, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    silence.id,
                    silence.rule,
                    orjson.dumps(silence.matchers),
                    silence.starts,
                    silence.ends,
                    silence.reason,
                    silence.created_by,
                ),
            )

    def silences(self, now: int | None = None) -> list[Silence]:
        """Silences not yet ended at `now` (all of them when None)."""
        query = "SELECT id, rule, matchers, starts, ends, reason, created_by FROM silences"
        with self._lock:
            rows = (
                self._db.execute(query + " WHERE ends > ? ORDER BY starts", (now,))
                if now is not None
                else self._db.execute(query + " ORDER BY starts")
            ).fetchall()
        return [
            Silence(sid, rule, tuple((str(k), str(v)) for k, v in orjson.loads(m)), starts, ends, reason, by)
            for sid, rule, m, starts, ends, reason, by in rows
        ]

    def expire_silence(self, silence_id: str, now: int) -> bool:
        """End a silence now; False if there is no such silence still in force."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE silences SET ends = ? WHERE (id = ? OR id LIKE ?) AND ends > ?",
                (now, silence_id, silence_id + "%", now),
            ).rowcount
        return bool(changed)

    def incidents_since(self, start: int) -> list[dict[str, Any]]:
        """Incidents open, or opened or closed at or after `start` (event time, ns), oldest first."""
        with self._reading():
            rows = self._db.execute(
                "SELECT record FROM incidents WHERE closed IS NULL OR closed >= ? OR opened >= ? ORDER BY opened",
                (start, start),
            ).fetchall()
        return [orjson.loads(record) for (record,) in rows]

    def digest_state(self, schedule: str) -> dict[str, Any] | None:
        with self._reading():
            row = self._db.execute("SELECT state FROM digests WHERE schedule = ?", (schedule,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def save_digest_state(self, schedule: str, state: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO digests (schedule, state) VALUES (?, ?) "
                "ON CONFLICT (schedule) DO UPDATE SET state = excluded.state",
                (schedule, orjson.dumps(state)),
            )

    def output_size(self, path: str) -> int | None:
        """The committed length of an output file, or None if logpipe never saved progress with it."""
        with self._reading():
            row = self._db.execute("SELECT size FROM outputs WHERE path = ?", (path,)).fetchone()
        return None if row is None else int(row[0])

    def recent_payloads(self, sink: str, limit: int) -> list[dict[str, Any]]:
        """The newest alerts delivered to a sink, oldest first (the Sentry sink rebuilds breadcrumb trails)."""
        with self._reading():
            rows = self._db.execute(
                "SELECT a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.sink = ? AND "
                "d.state = 'delivered' ORDER BY a.rowid DESC LIMIT ?",
                (sink, limit),
            ).fetchall()
        return [orjson.loads(payload) for (payload,) in reversed(rows)]
