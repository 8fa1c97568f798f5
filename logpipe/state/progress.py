"""The follower's progress: for each followed container and stream, the checkpoint (how far it is handled), the
committed length of each event output file (--events-out), and the incidents' state, all moved in one transaction,
so after a crash an output is cut back to the length that matches the checkpoints, the incidents are as those lines
left them, and the lines after them are read again: each line's event is written, and each match counted, exactly
once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from logpipe.state.database import Database

PROGRESS_SCHEMA = """
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
    record BLOB NOT NULL          -- the incident's whole state (logpipe/incidents/incident.py Incident.to_record)
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (closed, opened);
"""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a container's stream has been handled: every line up to `time`, and `seen` lines at `time`."""

    container_id: str
    time: int
    seen: int


class Progress:
    def __init__(self, database: Database) -> None:
        self.database = database

    def checkpoints(self, container: str) -> dict[str, Checkpoint]:
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT stream, container_id, time, seen FROM checkpoints WHERE container = ?", (container,)
            ).fetchall()
        return {stream: Checkpoint(container_id, time, seen) for stream, container_id, time, seen in rows}

    def save(
        self,
        positions: dict[str, dict[str, Checkpoint]],
        outputs: dict[str, int],
        incidents: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Move checkpoints (per followed name and stream), output file lengths and incident state together."""
        with self.database.transaction() as db:
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

    def output_size(self, path: str) -> int | None:
        """The committed length of an output file, or None if logpipe never saved progress with it."""
        with self.database.reading() as db:
            row = db.execute("SELECT size FROM outputs WHERE path = ?", (path,)).fetchone()
        return None if row is None else int(row[0])

    def open_incidents(self) -> list[dict[str, Any]]:
        with self.database.reading() as db:
            rows = db.execute("SELECT record FROM incidents WHERE closed IS NULL ORDER BY opened").fetchall()
        return [orjson.loads(record) for (record,) in rows]

    def incidents(self, limit: int = 50) -> list[dict[str, Any]]:
        """Open incidents, then the most recently opened closed ones."""
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT record FROM incidents ORDER BY closed IS NOT NULL, opened DESC LIMIT ?", (limit,)
            ).fetchall()
        return [orjson.loads(record) for (record,) in rows]

    def incidents_since(self, start: int) -> list[dict[str, Any]]:
        """Incidents open, or opened or closed at or after `start` (event time, ns), oldest first."""
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT record FROM incidents WHERE closed IS NULL OR closed >= ? OR opened >= ? ORDER BY opened",
                (start, start),
            ).fetchall()
        return [orjson.loads(record) for (record,) in rows]
