"""The state directory on a real read-only filesystem and on a real full disk (small tmpfs mounts): one-line
errors, non-zero exit, and after a full disk everything committed is kept and a rerun sends each alert once."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable

RULES = """rules:
  - id: numbered
    title: Numbered failure
    runbook: none
    severity: critical
    match: {message: {regex: 'boom (?P<n>\\d+)'}}
    group_by: [n]
    examples: {match: [boom 1]}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, mounted here for the test and unmounted after (needs root: CI runs as root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def replay(tmp_path: Path, state_dir: Path, log: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yml").write_text(RULES)
    config = tmp_path / "logpipe.yml"
    # the receiver's port is closed: deliveries stay pending, so every alert's row stays in the outbox
    config.write_text(f"state_dir: {state_dir}\nchannels: {{ops: {{url: 'http://127.0.0.1:9/x', kind: webhook}}}}\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "logpipe",
            "replay",
            "--format",
            "jsonl",
            "--wait",
            "0",
            "--config",
            str(config),
            "--rules",
            str(tmp_path / "rules.yml"),
            str(log),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LOGPIPE_LOG_LEVEL": "error"},
    )


def stored_ids(state_dir: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(state_dir / "state.sqlite")) as db:
        return [row[0] for row in db.execute("SELECT id FROM alerts ORDER BY id")]


def test_a_read_only_state_directory_is_a_one_line_error(tmp_path: Path, small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    log = tmp_path / "app.log"
    log.write_text("boom 1\n")
    result = replay(tmp_path, small_disk / "state", log)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot create the state directory {small_disk / 'state'}: Read-only file system; give logpipe's "
        "user write access there, or set state_dir to a writable directory"
    ]


def test_a_full_disk_stops_replay_cleanly_keeping_what_was_committed(tmp_path: Path, small_disk: Path) -> None:
    total = 5_000  # about 1 KB of outbox per alert: more than 1 MiB (and under a rule's 10,000-group limit)
    log = tmp_path / "app.log"
    # Docker timestamps: event time, hence each alert's id, is the same in both runs
    log.write_text("".join(f"2026-11-27T09:00:00.{n:09d}Z boom {n}\n" for n in range(total)))
    state = small_disk / "state"
    result = replay(tmp_path, state, log)
    assert result.returncode == 1
    *logged, error = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    # before it: logpipe's own log only (a sink thread may have met the full disk too: it pauses, logged)
    assert all(line.startswith("{") for line in logged), logged
    assert error.startswith(f"Error: the disk holding {state / 'state.sqlite'} is full (")
    assert error.endswith("what was committed before is kept: free space and run again (alerts already "
                          "committed are not sent twice)")  # fmt: skip
    with contextlib.closing(sqlite3.connect(state / "state.sqlite")) as db:
        committed = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
    assert 0 < committed < total

    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    again = replay(tmp_path, state, log)
    assert again.returncode == 3, again.stderr  # finished; the receiver is down, so the alerts wait in the outbox
    # the same as one replay on a disk with room: nothing lost, nothing stored twice
    reference = replay(tmp_path, tmp_path / "reference", log)
    assert reference.returncode == 3, reference.stderr
    assert stored_ids(state) == stored_ids(tmp_path / "reference")
    assert len(stored_ids(state)) >= total  # every group's alert, at least
