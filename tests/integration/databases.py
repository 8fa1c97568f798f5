"""Real Redis and Postgres servers from Debian's packages (redis-server, postgresql), on loopback ports of their
own, each its own process started and stopped by the test (by pid), with nothing kept after the session. As root
(CI), Postgres runs as the `postgres` user the package made: it refuses to run as root."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.receivers import free_port
from tests.waiting import DEADLINE


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"exited with {process.returncode}: {log.read_text()[-1000:]}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"not listening on {port} after {timeout} s: {log.read_text()[-1000:]}") from None
            time.sleep(0.05)


class RedisServer:
    """redis-server without persistence; `stop()` and `start()` again on the same port (an outage and its end)."""

    def __init__(self, directory: Path) -> None:
        self.program = shutil.which("redis-server") or ""
        if not self.program:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.log = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


class PostgresServer:
    """A Postgres cluster made by initdb in a temporary directory (trust authentication on loopback)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        if not found:
            raise RuntimeError("postgres is not installed (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.user = "postgres" if os.geteuid() == 0 else None  # as root: the package's user
        self.directory = Path(tempfile.mkdtemp(prefix="logpipe-postgres-", dir="/var/tmp"))
        if self.user:
            shutil.chown(self.directory, self.user)
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync"]
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, check=False, user=self.user)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-1000:]}")

    def url(self, password: str) -> str:
        """A DSN as a service carries one, password and all (trust authentication ignores it)."""
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        command = [
            str(self.bin / "postgres"),
            *("-D", str(self.data), "-p", str(self.port), "-k", str(self.directory)),
            *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
        ]
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, user=self.user)
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): clients are cut off, new connections refused."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            self.process.wait(timeout=30)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
