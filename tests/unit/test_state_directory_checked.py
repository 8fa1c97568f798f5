"""The state directory is checked, not trusted (issue 28, findings 12, 14 and 19): a link planted where logpipe
writes a file is refused, not written through (running as root, logpipe overwrote the targets of `state.lock`
and `follow.pid`); a directory others can write in, or another user's, is refused; the pid file is 0600; and
`logpipe reload` signals only the follower itself, never whatever process now has a stale pid."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.errors import StateError
from logpipe.state import StateStore

VICTIM = "a file elsewhere that logpipe must not touch\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "precious"
    path.parent.mkdir()
    path.write_text(VICTIM)
    return path


@pytest.mark.parametrize("name", ["state.lock", "state.sqlite", "state.sqlite-wal", "state.sqlite-shm"])
def test_state_directory_checked_a_link_planted_where_logpipe_writes_is_refused(
    name: str, tmp_path: Path, victim: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / name).symlink_to(victim)
    with pytest.raises(StateError, match=re.escape(f"{state / name} is a symbolic link")):
        StateStore(state / "state.sqlite").close()
    assert victim.read_text() == VICTIM


def test_state_directory_checked_the_pid_file_is_0600_and_through_no_link(tmp_path: Path, victim: Path) -> None:
    from logpipe.state.directory import write_pid_file  # how the follower writes follow.pid since the fix

    pid_file = tmp_path / "follow.pid"
    pid_file.write_text("1\n")
    pid_file.chmod(0o644)  # as an older logpipe left it
    write_pid_file(pid_file)
    assert (pid_file.read_text(), stat.S_IMODE(pid_file.stat().st_mode)) == (f"{os.getpid()}\n", 0o600)
    (tmp_path / "planted.pid").symlink_to(victim)
    with pytest.raises(StateError, match="is a symbolic link"):
        write_pid_file(tmp_path / "planted.pid")
    assert victim.read_text() == VICTIM


def test_state_directory_checked_one_others_can_write_in_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    with pytest.raises(StateError, match=r"writable by others .*chmod go-w"):
        StateStore(state / "state.sqlite").close()
    state.chmod(0o750)  # systemd's StateDirectoryMode=0750: only its owner writes
    StateStore(state / "state.sqlite").close()


def test_state_directory_checked_another_users_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(state).st_uid + 1000)  # this process as another user
    with pytest.raises(StateError, match=re.escape(f"belongs to uid {os.stat(state).st_uid}, not to this user")):
        StateStore(state / "state.sqlite").close()


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not logpipe (SIGHUP would end it)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.kill()
    process.wait(timeout=10)


def test_state_directory_checked_reload_with_a_stale_pid_signals_nothing(
    tmp_path: Path, bystander: subprocess.Popen[bytes]
) -> None:
    """The follower stopped (no lock held) and its pid now belongs to another process."""
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / "follow.pid").write_text(f"{bystander.pid}\n")
    (tmp_path / "logpipe.yml").write_text(f"state_dir: {tmp_path / 'state'}\n")
    result = CliRunner().invoke(main, ["reload", "--config", str(tmp_path / "logpipe.yml")])
    assert result.exit_code == 1, result.output
    assert "is stale" in result.output
    assert bystander.poll() is None  # alive: no SIGHUP reached it


def test_state_directory_checked_reload_signals_the_process_holding_the_directory(tmp_path: Path) -> None:
    """The follower: it holds the lock (its pid in state.lock), wrote follow.pid, runs `follow`."""
    state = tmp_path / "state"
    code = (
        "import signal, sys, time; from pathlib import Path; from logpipe.state.directory import DirectoryLock, "
        "write_pid_file; lock = DirectoryLock(Path(sys.argv[1])); write_pid_file(Path(sys.argv[1]) / 'follow.pid');"
        " signal.signal(signal.SIGHUP, lambda *_: sys.exit(7)); print('up', flush=True); time.sleep(600)"
    )
    state.mkdir(mode=0o700)
    follower = subprocess.Popen([sys.executable, "-c", code, str(state), "follow"], stdout=subprocess.PIPE)
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == b"up\n"
        (tmp_path / "logpipe.yml").write_text(f"state_dir: {state}\n")
        result = CliRunner().invoke(main, ["reload", "--config", str(tmp_path / "logpipe.yml")])
        assert result.exit_code == 0, result.output
        assert follower.wait(timeout=30) == 7  # it got the SIGHUP
    finally:
        if follower.poll() is None:
            follower.send_signal(signal.SIGKILL)
            follower.wait(timeout=10)
