"""The state directory and its files (state.sqlite, the lock, the follower's pid): created private (0700, files
0600: notifications and checkpoints are nobody else's business), held by one logpipe process at a time (an
exclusive flock on `state.lock`: two processes on one outbox would send every notification twice), and every way
of failing to use it turned into a `StateError` that says what to do.

Checked, not trusted: whoever can write in the directory can plant a link where logpipe writes a file, and logpipe
(often root) would write through it (it overwrote the targets of `state.lock` and `follow.pid`). So an existing
directory must be writable by its owner alone, and be this user's (root may use the service user's, as `sudo
logpipe silence add` does); every file logpipe opens there is opened without following a link (O_NOFOLLOW) and
made 0600, and SQLite's own files beside a database (-wal, -shm, -journal) must not be links either.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import sqlite3
import stat
from pathlib import Path
from typing import IO

from logpipe.errors import StateError

STATE_FILE = "state.sqlite"  # the state store (store.py)
LOCK_FILE = "state.lock"
PID_FILE = "follow.pid"  # the running follower's pid, for `logpipe reload`
DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dir(directory: Path) -> None:
    """Create the directory (and its parents) 0700; an existing one keeps the mode its owner gave it, if it is safe
    (`check_private_dir`)."""
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise StateError(f"cannot create the state directory {directory}: {error.strerror}; {_fix(error)}") from None
    check_private_dir(directory)


def check_private_dir(directory: Path) -> None:
    """A StateError unless the directory is one only its owner can write in, and this user's (or root's use)."""
    try:
        found = os.stat(directory)
    except OSError as error:
        raise StateError(f"cannot use the state directory {directory}: {error.strerror}; {_fix(error)}") from None
    if not stat.S_ISDIR(found.st_mode):
        raise StateError(f"the state directory {directory} is not a directory; set state_dir to a directory")
    if found.st_mode & 0o022:
        raise StateError(
            f"the state directory {directory} is writable by others (mode {stat.filemode(found.st_mode)}): "
            f"anyone who can write there can make logpipe overwrite other files; chmod go-w {directory}"
        )
    me = os.geteuid()
    if me not in (found.st_uid, 0):
        raise StateError(
            f"the state directory {directory} belongs to uid {found.st_uid}, not to this user (uid {me}); run "
            f"logpipe as its owner, chown it, or set state_dir to a directory of this user's"
        )


def open_private(path: Path, flags: int) -> int:
    """A descriptor of a file in the state directory: created 0600 (and made 0600 if it was not), never through a
    link at its name (O_NOFOLLOW). A StateError that says what to do otherwise."""
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StateError(_link_problem(path)) from None
        raise StateError(f"cannot write the state file {path}: {error.strerror}; {_fix(error)}") from None
    with contextlib.suppress(OSError):  # not its owner (root made it): the mode is the one its owner chose
        os.fchmod(descriptor, FILE_MODE)
    return descriptor


def create_private_file(path: Path) -> None:
    """Make sure `path` exists, 0600 and no link (SQLite gives its -wal and -shm files the database file's mode),
    and that SQLite's own files beside it are no links (SQLite opens those itself, following links)."""
    os.close(open_private(path, os.O_CREAT | os.O_RDWR))
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.is_symlink():
            raise StateError(_link_problem(companion))


def write_pid_file(path: Path) -> None:
    """This process's pid, for `logpipe reload` (0600, through no link)."""
    with os.fdopen(open_private(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC), "w") as out:
        out.write(f"{os.getpid()}\n")


def signal_follower(directory: Path, number: int) -> int:
    """Send signal `number` to the `logpipe follow` of the state directory; its pid. Only to a process that is
    that follower: the one holding the directory's lock, whose pid is in both `state.lock` and `follow.pid`, with
    `follow` on its command line. A stale `follow.pid` (the follower stopped, its pid since given to another
    process) is a StateError, never a signal to whatever has the pid now."""
    pid_path = directory / PID_FILE
    try:
        with os.fdopen(open_private(pid_path, os.O_RDONLY), "r") as text:
            pid = int(text.read().strip() or "0")
    except StateError:
        if not pid_path.exists():
            raise StateError(f"no running follower: {pid_path} does not exist") from None
        raise
    except ValueError:
        raise StateError(f"no running follower: {pid_path} holds no pid") from None
    try:
        handle = os.pidfd_open(pid)  # this process, even should its pid be reused meanwhile
    except (ProcessLookupError, ValueError, OSError):
        raise StateError(f"no running follower: {pid_path} names pid {pid}, which is not running") from None
    try:
        holder = _lock_holder(directory)
        if holder != pid or b"follow" not in _command_line(pid):
            raise StateError(
                f"no running follower: {pid_path} is stale (pid {pid} "
                f"{'holds no lock on' if holder != pid else 'is not logpipe follow of'} {directory}); "
                "nothing was signalled"
            )
        signal.pidfd_send_signal(handle, number)
    except ProcessLookupError:
        raise StateError(f"no running follower: pid {pid} has just stopped") from None
    finally:
        os.close(handle)
    return pid


def _lock_holder(directory: Path) -> int | None:
    """The pid in `state.lock` while a process holds the lock; None when none does."""
    try:
        descriptor = os.open(directory / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(descriptor, "r") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: by the process whose pid it holds
            text = lock.read().strip()
            return int(text) if text.isdigit() else None
        return None  # we could take it: nobody holds it (closing the file releases it)


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _link_problem(path: Path) -> str:
    return (
        f"{path} is a symbolic link: logpipe follows no link in its state directory (it would write where the "
        f"link points); remove it, and find out who made it"
    )


class DirectoryLock:
    """An exclusive lock on the state directory for this process's lifetime (released by the kernel if it dies)."""

    def __init__(self, directory: Path) -> None:
        path = directory / LOCK_FILE
        self._file: IO[str] | None = os.fdopen(open_private(path, os.O_CREAT | os.O_RDWR), "r+")
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


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """An existing SQLite file of the state directory opened read-only (SQLite's mode=ro: it is neither created
    nor changed), beside the follower writing it; sqlite3.Error when it cannot be (the caller says what that
    means there)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=timeout)


def _fix(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "give logpipe's user write access there, or set state_dir to a writable directory"
    if error.errno == errno.ENOSPC:
        return "free space on that disk"
    return "check the path and its permissions"
