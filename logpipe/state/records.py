"""What people and schedules record in the state store: silences (`logpipe silence add` in another shell, honoured
by a running follower at once) and the daily digest's state (the last date sent, what was counted so far)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from logpipe.incidents.silences import Silence

if TYPE_CHECKING:
    from logpipe.state.database import Database

RECORDS_SCHEMA = """
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


class Records:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add_silence(self, silence: Silence) -> None:
        with self.database.transaction() as db:
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
        with self.database.reading() as db:
            rows = (
                db.execute(query + " WHERE ends > ? ORDER BY starts", (now,))
                if now is not None
                else db.execute(query + " ORDER BY starts")
            ).fetchall()
        return [
            Silence(sid, rule, tuple((str(k), str(v)) for k, v in orjson.loads(m)), starts, ends, reason, by)
            for sid, rule, m, starts, ends, reason, by in rows
        ]

    def expire_silence(self, silence_id: str, now: int) -> bool:
        """End a silence now; False if there is no such silence still in force."""
        with self.database.transaction() as db:
            changed = db.execute(
                "UPDATE silences SET ends = ? WHERE (id = ? OR id LIKE ?) AND ends > ?",
                (now, silence_id, silence_id + "%", now),
            ).rowcount
        return bool(changed)

    def digest_state(self, schedule: str) -> dict[str, Any] | None:
        with self.database.reading() as db:
            row = db.execute("SELECT state FROM digests WHERE schedule = ?", (schedule,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def save_digest_state(self, schedule: str, state: dict[str, Any]) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO digests (schedule, state) VALUES (?, ?) "
                "ON CONFLICT (schedule) DO UPDATE SET state = excluded.state",
                (schedule, orjson.dumps(state)),
            )
