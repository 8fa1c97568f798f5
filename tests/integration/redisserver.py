"""A real redis-server (Debian's `redis-server` package) on a free loopback port, in memory only (no RDB, no
AOF), stopped by its pid. `stop()` and `start()` again on the same port are what an outage looks like."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.integration.receivers import free_port
from tests.waiting import DEADLINE


@dataclass
class RedisServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    options: list[str] = field(default_factory=list)  # more redis-server options (TLS, ACL users)
    ping: dict[str, Any] = field(default_factory=dict)  # how the readiness check connects (TLS, credentials)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.workdir), *self.options]
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, **self.ping)
        deadline = time.monotonic() + DEADLINE  # a safety net: a loaded machine starts it late
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log_text = (self.workdir / "redis.log").read_text()
                    raise RuntimeError(f"redis-server did not start: {log_text}") from None
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)
