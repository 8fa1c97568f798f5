"""Signal handlers only set a flag (issue 28, finding 3): signals arriving together, in bursts, or while the
follower is already stopping never hang a real `logpipe follow`. Before, each handler called threading.Event.set(),
which takes a lock the code it interrupted may hold: the follower hung for good, /health still ok."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.docker.test_follow import follow, handled, log_lines, logged

STORM = 20_000  # signals back to back: most coalesce, but some land while a handler (or the loop) holds a lock
WRITER = 'i=0; while [ $i -lt 100000 ]; do echo "line $i"; i=$((i+1)); usleep 20000; done'


def storm(process: subprocess.Popen[bytes], number: signal.Signals, count: int = STORM) -> None:
    for _ in range(count):
        if process.poll() is not None:
            return
        os.kill(process.pid, number)


def stopped_within(process: subprocess.Popen[bytes], seconds: float) -> int:
    """Its exit code; a follower still running after `seconds` is hung: killed (by its pid), and the test fails."""
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        raise AssertionError(f"hung: still running {seconds} s after SIGTERM") from None


def test_signal_handlers_only_set_a_flag_bursts_of_sighup_reload_and_it_goes_on_following(
    tmp_path: Path, container: Any
) -> None:
    box = container(WRITER)
    follower = follow(tmp_path, box.name, until_exit=False)
    try:
        handled(tmp_path / "events.jsonl", 10)
        for _ in range(5):  # back-to-back pairs
            os.kill(follower.pid, signal.SIGHUP)
            os.kill(follower.pid, signal.SIGHUP)
        storm(follower, signal.SIGHUP, 10 * STORM)  # and a storm (no waiter on the reload flag: a narrower window)
        logged(follower, "rules reloaded")
        seen = len(log_lines(tmp_path / "events.jsonl"))
        handled(tmp_path / "events.jsonl", seen + 20)  # still following: the lines keep coming
    finally:
        os.kill(follower.pid, signal.SIGTERM)
        code = stopped_within(follower, 60)
    assert code == 0, follower.log.read_text()[-2000:]  # type: ignore[attr-defined]


def test_signal_handlers_only_set_a_flag_sigterms_in_a_row_stop_it_cleanly(tmp_path: Path, container: Any) -> None:
    box = container(WRITER)
    for run in range(3):
        follower = follow(tmp_path, box.name, f"events-{run}.jsonl", until_exit=False)
        handled(tmp_path / f"events-{run}.jsonl", 5)
        storm(follower, signal.SIGTERM)  # the second arrives while the first one's handler runs
        assert stopped_within(follower, 60) == 0, follower.log.read_text()[-2000:]  # type: ignore[attr-defined]
