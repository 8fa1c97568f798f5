"""The Docker daemon tests/docker/docker-up.sh starts: its pid, so the suite stops only a daemon it started."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

STARTED_BY_SUITE = Path("/tmp/logpipe-dockerd.pid")  # written by docker-up.sh when it starts dockerd


def suite_dockerd_pid() -> int | None:
    """The pid of the running dockerd if tests/docker/docker-up.sh started it; None for anyone else's daemon
    (a developer's own, or one the machine started), which the tests must never stop."""
    try:
        pid = int(STARTED_BY_SUITE.read_text())
    except (OSError, ValueError):
        return None
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return None
    return pid if command.endswith(b"dockerd") else None


def stop_dockerd(pid: int, timeout: float = 60) -> bool:
    """SIGTERM the daemon and wait for it to exit (its containers stop with it); whether it did in time."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    return not Path(f"/proc/{pid}").exists()
