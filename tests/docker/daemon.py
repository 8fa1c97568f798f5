"""The Docker daemons of the tests: the host's (started by tests/docker/docker-up.sh when none answers, and left
running, as CI's is: on a shared machine a daemon the run found down may be everyone's, back from a restart), and
a private one a test may stop and start at will (its own socket, data root and pid file), so no test ever stops
the daemon other tests and other people are using."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
DOCKER_UP = HERE / "docker-up.sh"


def start_host_daemon() -> subprocess.CompletedProcess[str]:
    """docker-up.sh: idempotent, it starts dockerd only when none answers, and imports busybox:local."""
    return subprocess.run(["bash", str(DOCKER_UP)], capture_output=True, text=True, timeout=600, check=False)


class PrivateDaemon:
    """A dockerd of one test session's own, beside the host's: started and stopped by pid, with busybox:local
    imported (docker-up.sh, pointed at it). Restarting it disturbs nobody: its containers are only the test's."""

    def __init__(self) -> None:
        # short: a unix socket's path has at most 107 bytes, and containerd's sockets live under exec-root
        self.root = Path(tempfile.mkdtemp(prefix="lp-dockerd-", dir="/tmp"))
        self.host = f"unix://{self.root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "dockerd",
            f"--host={self.host}",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'docker.pid'}",
            *("--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs"),
        ]
        with (self.root / "dockerd.log").open("ab") as log:
            self.process = process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        # docker-up.sh waits for nothing here (`docker info` answers once the daemon is up): wait for the socket
        deadline = time.monotonic() + 120
        while subprocess.run(["docker", "-H", self.host, "info"], capture_output=True, check=False).returncode:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private dockerd did not come up: {self.log()[-2000:]}")
            time.sleep(0.1)
        environment = {**os.environ, "DOCKER_HOST": self.host}
        imported = subprocess.run(
            ["bash", str(DOCKER_UP)], capture_output=True, text=True, timeout=300, check=False, env=environment
        )
        if imported.returncode != 0:
            raise RuntimeError(f"busybox:local not imported into the private dockerd: {imported.stderr[-2000:]}")

    def stop(self) -> None:
        """SIGTERM, and wait for it to exit (its containers stop with it; it is this process's child)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"private dockerd (pid {self.process.pid}) did not stop within 60 s") from None
        self.process = None

    def log(self) -> str:
        path = self.root / "dockerd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        """Stop it and delete its data root (vfs layers: root-owned copies of each image)."""
        self.stop()
        subprocess.run(["rm", "-rf", str(self.root)], check=False)
