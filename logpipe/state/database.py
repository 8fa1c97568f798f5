"""The state store's one connection: shared by the threads, serialised by a lock; every query of the store's parts
goes through a transaction (BEGIN IMMEDIATE ... COMMIT) or a read, and SQLite's errors come out as the StateError
that says what to do (directory.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from logpipe.state.directory import database_error


class Database:
    """The connection and its lock; every query of the parts goes through `transaction` (a write, BEGIN
    IMMEDIATE ... COMMIT) or `reading`, which turn SQLite's errors into a StateError saying what to do."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path, self.connection = path, connection
        self.lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            try:
                self.connection.execute("BEGIN IMMEDIATE")
                try:
                    yield self.connection
                except BaseException:
                    self.connection.execute("ROLLBACK")
                    raise
                self.connection.execute("COMMIT")
            except sqlite3.Error as error:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise database_error(self.path, error) from None

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            try:
                yield self.connection
            except sqlite3.Error as error:
                raise database_error(self.path, error) from None

    def close(self) -> None:
        with self.lock:
            self.connection.close()
