"""`logpipe follow` started while the Docker daemon cannot be reached: it retries with /health degraded, and
follows once the daemon answers (the daemon's socket appears, as when dockerd starts after logpipe)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.receivers import free_port
from tests.waiting import wait_until

REAL_SOCKET = Path(os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://"))


def health(port: int) -> dict[str, Any]:
    try:
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read())  # type: ignore[no-any-return]
    except OSError as error:
        if hasattr(error, "read"):  # 503 while degraded carries the same JSON body
            return json.loads(error.read())  # type: ignore[no-any-return]
        return {"status": f"unreachable: {error}"}


def test_follow_with_the_daemon_down_at_start_retries_degraded_then_follows(
    tmp_path: Path, container: Any, docker_client: Any
) -> None:
    box = container("echo 'hello from the box'")
    box.wait(timeout=30)
    socket = tmp_path / "docker.sock"  # nothing there yet: the daemon is "down"
    port = free_port()
    (tmp_path / "logpipe.yml").write_text("state_dir: state\n")
    stderr = tmp_path / "stderr"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(tmp_path / "logpipe.yml")),
            *("--since", "beginning", "--events-out", str(tmp_path / "events.jsonl"), "--format", "jsonl"),
            *("--no-view", "--until-exit", "--metrics-address", f"127.0.0.1:{port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=stderr.open("wb"),
        start_new_session=True,
        env={**os.environ, "DOCKER_HOST": f"unix://{socket}", "LOGPIPE_LOG_LEVEL": "info"},
    )
    try:
        wait_until(lambda: "docker" in health(port).get("problems", {}), 30, "/health to report docker degraded")
        report = health(port)
        assert report["status"] == "degraded"
        assert report["problems"]["docker"].startswith("Docker daemon unreachable at start, retrying: ")
        assert process.poll() is None  # still running, retrying

        socket.symlink_to(REAL_SOCKET)  # the daemon "comes up"
        process.wait(timeout=60)  # --until-exit: it follows the exited container to its end, then stops
        assert process.returncode == 0, stderr.read_text()[-2000:]
        messages = [json.loads(line)["message"] for line in (tmp_path / "events.jsonl").read_text().splitlines()]
        assert "hello from the box" in messages
        assert "Traceback" not in stderr.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
