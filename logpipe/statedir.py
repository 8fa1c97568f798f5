"""The state directory: created private (0700, files 0600: alerts and checkpoints are nobody else's business),
held by one logpipe process at a time (an exclusive flock on `state.lock`: two processes on one outbox would send
every alert twice), and every way of failing to use it turned into a `StateError` that says what to do.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import IO

from logpipe.errors import StateError

LOCK_FILE = "state.lock"
PID_FILE = "follow.pid"  # the running follower's pid, for `logpipe reload`
DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(directory: Path) -> None:
    """Create the directory (and its parents) 0700; an existing directory keeps the mode its owner gave it."""
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise StateError(f"cannot create the state directory {directory}: {error.strerror}; {_fix(error)}") from None


def create_private_file(path: Path) -> None:
    """Make sure `path` exists, created 0600 (SQLite gives its -wal and -shm files the database file's mode)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE))
    except OSError as error:
        raise StateError(f"cannot write the state file {path}: {error.strerror}; {_fix(error)}") from None


class DirectoryLock:
    """An exclusive lock on the state directory for this process's lifetime (released by the kernel if it dies)."""

    def __init__(self, directory: Path) -> None:
        path = directory / LOCK_FILE
        try:
            self._file: IO[str] | None = os.fdopen(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE), "r+")
        except OSError as error:
            raise StateError(f"cannot write the lock file {path}: {error.strerror}; {_fix(error)}") from None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._file.read().strip() or "unknown"
            self._file.close()
            self._file = None
            raise StateError(
                f"another logpipe process (pid {holder}) is using the state directory {directory}; stop it, "
                "or give this one its own state_dir (two processes on one outbox would send every alert twice)"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def database_error(path: Path, error: sqlite3.Error) -> StateError:
    """What a SQLite error on the state file means for the user, and what to do about it."""
    text = str(error).lower()
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StateError(
            f"the state file {path} cannot be written ({error}); give logpipe's user write access to "
            f"{path.parent}, or set state_dir to a writable directory"
        )
    if "disk is full" in text or "disk i/o" in text:
        return StateError(
            f"the disk holding {path} is full ({error}); what was committed before is kept: free space and run "
            "again (alerts already committed are not sent twice)"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StateError(
            f"the state file {path} is corrupt ({error}); move it aside (mv {path} {path}.corrupt) and start "
            "again: logpipe creates a new one (its undelivered alerts and checkpoints are lost)"
        )
    return StateError(f"the state file {path}: {error}")


def open_side_database(path: Path, schema: str) -> sqlite3.Connection:
    """A private SQLite file beside the state (probe readings, report trends): WAL, autocommit, shared by the
    threads, and synchronous=NORMAL since a power cut may lose its last rows, which are hints, not state.
    Errors come out as database_error's StateError."""
    make_private_dir(path.parent)
    try:
        create_private_file(path)
        database = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("PRAGMA synchronous=NORMAL")
        database.executescript(schema)
    except sqlite3.Error as error:
        raise database_error(path, error) from None
    return database


def _fix(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "give logpipe's user write access there, or set state_dir to a writable directory"
    if error.errno == errno.ENOSPC:
        return "free space on that disk"
    return "check the path and its permissions"
