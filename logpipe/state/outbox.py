"""The outbox: every notification (and digest), redacted, with a delivery row per sink, written before any delivery
is tried, so nothing is lost when a receiver is down or logpipe is killed. Delivery is at least once to a receiver
and exactly once per id and sink: the same notification (deterministic id) is stored once, and a delivery marked
done is never tried again. Between sending and marking, a crash can repeat one send; receivers dedupe by the id
(Sentry's event_id, the webhook's Idempotency-Key). Delivered rows older than the retention are pruned; dead
letters are kept.

The outbox holds at most `max_pending` pending deliveries (counted in memory: one writer holds the directory's
lock); past it a commit is refused with OutboxFull, except the one notice saying so. The tables keep their first
names (`alerts`, `alert_id`): renaming them would orphan every existing state file.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from logpipe.state.database import Database

OUTBOX_SCHEMA = """
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
"""

# what is committed: (id, its payload, the sinks to deliver it to)
Entry = tuple[str, dict[str, Any], list[str]]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # the notification's (or digest's) id
    sink: str
    attempts: int
    payload: dict[str, Any]


class OutboxFull(Exception):
    """The outbox holds its maximum of pending deliveries; the caller commits a notice of its own."""


class Outbox:
    def __init__(self, database: Database, max_pending: int = 100_000) -> None:
        self.database, self.max_pending = database, max_pending
        with database.reading() as db:  # kept in memory: each commit needs it, and counting is a scan
            self._pending: int = db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]

    def put(
        self,
        item_id: str,
        payload: dict[str, Any],
        sinks: Sequence[str],
        now: float | None = None,
        *,
        notice: bool = False,
    ) -> bool:
        """Store a notification and a pending delivery per sink, in one transaction. False if it was already
        stored (a replay after a crash): nothing is queued twice. `notice`: the notice that the outbox is full,
        let through whatever the limit says."""
        return self.put_many([(item_id, payload, list(sinks))], now, notice=notice)[0]

    def put_many(self, entries: list[Entry], now: float | None = None, *, notice: bool = False) -> list[bool]:
        """Several in one transaction (one fsync): the follower commits a tick's notifications together."""
        now = time.time() if now is None else now
        limit = None if notice else self.max_pending
        stored = []
        pending = self._pending
        with self.database.transaction() as db:
            for item_id, payload, sinks in entries:
                if db.execute("SELECT 1 FROM alerts WHERE id = ?", (item_id,)).fetchone():
                    stored.append(False)
                    continue
                if limit is not None and pending + len(sinks) > limit:
                    raise OutboxFull(f"{pending} deliveries pending (limit {limit})")
                db.execute(
                    "INSERT INTO alerts (id, created, payload) VALUES (?, ?, ?)",
                    (item_id, now, orjson.dumps(payload, default=str)),
                )
                db.executemany(
                    "INSERT INTO deliveries (alert_id, sink, next_attempt) VALUES (?, ?, ?)",
                    [(item_id, sink, now) for sink in sinks],
                )
                pending += len(sinks)
                stored.append(True)
        self._pending = pending
        return stored

    def due(self, sink: str, now: float | None = None, limit: int = 50) -> list[Delivery]:
        now = time.time() if now is None else now
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT d.alert_id, d.attempts, a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
                "WHERE d.sink = ? AND d.state = 'pending' AND d.next_attempt <= ? "
                "ORDER BY a.rowid LIMIT ?",  # the order they were committed: breadcrumbs before their event
                (sink, now, limit),
            ).fetchall()
        return [Delivery(item_id, sink, attempts, orjson.loads(payload)) for item_id, attempts, payload in rows]

    def next_due(self, sink: str) -> float | None:
        with self.database.reading() as db:
            row = db.execute(
                "SELECT min(next_attempt) FROM deliveries WHERE sink = ? AND state = 'pending'", (sink,)
            ).fetchone()
        return row[0] if row else None

    def delivered(self, item_id: str, sink: str, now: float | None = None) -> None:
        with self.database.transaction() as db:
            changed = db.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered = ?, last_error = '' "
                "WHERE alert_id = ? AND sink = ? AND state = 'pending'",
                (time.time() if now is None else now, item_id, sink),
            ).rowcount
        self._pending -= changed

    def failed(self, item_id: str, sink: str, error: str, retry_at: float | None) -> None:
        """Record a failed attempt: retry at `retry_at`, or dead-letter when None (kept, never deleted)."""
        with self.database.transaction() as db:
            if retry_at is None:
                changed = db.execute(
                    "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ? "
                    "WHERE alert_id = ? AND sink = ? AND state = 'pending'",
                    (error[:2000], item_id, sink),
                ).rowcount
                self._pending -= changed
            else:
                db.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, next_attempt = ?, last_error = ? "
                    "WHERE alert_id = ? AND sink = ?",
                    (retry_at, error[:2000], item_id, sink),
                )

    def pending(self) -> int:
        return self._pending

    def prune(self, older_than: float, now: float | None = None) -> int:
        """Delete deliveries delivered more than `older_than` seconds ago, and entries left with none; the number
        of deliveries deleted. Dead letters and pending rows stay. (An id pruned can be stored again: keep the
        retention longer than any log you might replay.)"""
        cutoff = (time.time() if now is None else now) - older_than
        with self.database.transaction() as db:
            deleted = db.execute(
                "DELETE FROM deliveries WHERE state = 'delivered' AND delivered < ?", (cutoff,)
            ).rowcount
            db.execute("DELETE FROM alerts WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)")
        return int(deleted)

    def counts(self) -> dict[tuple[str, str], int]:
        """(sink, state) -> number of deliveries."""
        with self.database.reading() as db:
            rows = db.execute("SELECT sink, state, count(*) FROM deliveries GROUP BY sink, state").fetchall()
        return {(sink, state): count for sink, state, count in rows}

    def deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT alert_id, sink, state, attempts, last_error FROM deliveries"
        with self.database.reading() as db:
            rows = (
                db.execute(query + " WHERE state = ? ORDER BY alert_id", (state,))
                if state
                else db.execute(query + " ORDER BY alert_id")
            ).fetchall()
        keys = ("alert_id", "sink", "state", "attempts", "last_error")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def recent_payloads(self, sink: str, limit: int) -> list[dict[str, Any]]:
        """The newest payloads delivered to a sink, oldest first (the Sentry sink rebuilds breadcrumb trails)."""
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.sink = ? AND "
                "d.state = 'delivered' ORDER BY a.rowid DESC LIMIT ?",
                (sink, limit),
            ).fetchall()
        return [orjson.loads(payload) for (payload,) in reversed(rows)]
