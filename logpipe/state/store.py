"""The state store: one SQLite file in the state directory, one connection shared by the threads (serialised by a
lock), and the tables of each concern: the outbox (outbox.py), the follower's progress (progress.py: checkpoints,
committed output lengths, incidents) and the records people make (records.py: silences, the digest's state).

A writing store holds the state directory's lock (directory.py): a second logpipe on the same directory is
refused. A command beside a running follower opens it with `StateStore.beside` or `find_beside` (no lock: the
follower holds it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from logpipe.errors import StateError
from logpipe.state.database import Database
from logpipe.state.directory import STATE_FILE, DirectoryLock, create_private_file, database_error, make_private_dir
from logpipe.state.outbox import OUTBOX_SCHEMA, Outbox
from logpipe.state.progress import PROGRESS_SCHEMA, Progress
from logpipe.state.records import RECORDS_SCHEMA, Records


class StateStore:
    """One SQLite file; safe to use from several threads."""

    def __init__(self, path: Path, max_pending: int = 100_000, exclusive: bool = True) -> None:
        """`exclusive`: take the state directory's lock (every writer does; see `beside` for readers)."""
        make_private_dir(path.parent)
        self.path = path
        self._dir_lock = DirectoryLock(path.parent) if exclusive else None
        try:
            create_private_file(path)
            connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")  # a notification in the outbox survives a power cut
            connection.executescript(OUTBOX_SCHEMA + PROGRESS_SCHEMA + RECORDS_SCHEMA)
            self.database = Database(path, connection)
            self.outbox = Outbox(self.database, max_pending)
        except (StateError, sqlite3.Error) as error:
            if self._dir_lock is not None:
                self._dir_lock.release()
            if isinstance(error, StateError):
                raise
            raise database_error(path, error) from None
        self.progress = Progress(self.database)
        self.records = Records(self.database)

    @classmethod
    def beside(cls, state_dir: Path) -> StateStore:
        """The store of a state directory opened beside the follower that may be running on it (which holds the
        directory's lock), created if there is none: for what people add while it runs (silences)."""
        return cls(state_dir / STATE_FILE, exclusive=False)

    @classmethod
    def find_beside(cls, state_dir: Path) -> StateStore | None:
        """The store of a state directory, opened beside a running follower for reading; None when logpipe has not
        written one there yet."""
        return cls.beside(state_dir) if (state_dir / STATE_FILE).exists() else None

    def close(self) -> None:
        self.database.close()
        if self._dir_lock is not None:
            self._dir_lock.release()
