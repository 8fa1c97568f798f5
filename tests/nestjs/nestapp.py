"""The NestJS fixture app (tests/nestjs/app/): its npm install, from its lockfile, once per lockfile into the
test cache, and the app run in a container the way tests/integration/test_python_worker.py runs the Python worker
(busybox chrooted into the host's read-only root: the daemon reaches no registry, so the host's Node runs it,
while Docker captures its output in its json-file log as for any container; `--network host` reaches the
servers on loopback)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

APP = Path(__file__).parent / "app"
MODES = ("text", "json", "pino")  # ConsoleLogger text with colours, NestJS JSON, nestjs-pino


class AppUnavailable(RuntimeError):
    """Node, npm or the Docker daemon is missing, or the install failed: the test cannot run here."""


def node_modules() -> Path:
    """`npm ci` of the app's lockfile into `.cache/nestjs-app/<lockfile hash>/` (or LOGPIPE_TEST_CACHE), once:
    about 20 s from the registry, nothing after. A lock file keeps parallel workers from installing twice."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise AppUnavailable("node and npm are not installed (the app needs Node 20 or later)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    if int(version.strip().lstrip("v").split(".")[0]) < 20:
        raise AppUnavailable(f"Node {version.strip()} is too old: NestJS 11 needs Node 20 or later")
    lock = (APP / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("LOGPIPE_TEST_CACHE", ROOT / ".cache")) / "nestjs-app"
    home = cache / hashlib.sha256(lock).hexdigest()[:16]
    home.mkdir(parents=True, exist_ok=True)
    with (cache / "install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (home / ".installed").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(APP / name, home / name)
            command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
            done = subprocess.run(command, cwd=home, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise AppUnavailable(f"npm ci failed: {done.stderr[-2000:]}")
            (home / ".installed").touch()
    return home / "node_modules"


def docker_available() -> None:
    found = shutil.which("docker")
    answered = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False) if found else None
    if answered is None or answered.returncode != 0:
        raise AppUnavailable("no Docker daemon (tests/docker/docker-up.sh starts one)")


@dataclass
class NestApp:
    """One run of the app in one logger mode: a container on the host network, removed by id at the end."""

    mode: str
    modules: Path
    port: int
    env: dict[str, str]
    name: str = field(default_factory=lambda: f"lp-nestjs-{uuid.uuid4().hex[:8]}")
    container: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        settings = {**self.env, "LOG_MODE": self.mode, "PORT": str(self.port), "NODE_PATH": str(self.modules)}
        command = ["docker", "run", "--detach", "--init", "--name", self.name, "--network", "host"]
        command += ["--volume", "/:/host:ro", "--stop-timeout", "10", "--workdir", "/"]
        for key, value in settings.items():
            command += ["--env", f"{key}={value}"]
        command += ["busybox:local", "chroot", "/host", shutil.which("node") or "node", str(APP / "src" / "main.js")]
        started = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if started.returncode != 0:
            raise AppUnavailable(f"docker run failed: {started.stderr}")
        self.container = started.stdout.strip()

    def docker(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=True)
        return done.stdout

    def restart(self) -> None:
        self.docker("restart", self.name)

    def stop(self) -> None:
        self.docker("stop", self.name)

    def remove(self) -> None:
        if self.container:
            subprocess.run(["docker", "rm", "--force", self.container], capture_output=True, timeout=60, check=False)

    def save_log(self, path: Path) -> None:
        """A copy of the container's json-file log, as Docker keeps it (what `logpipe replay` reads too)."""
        shutil.copyfile(self.docker("inspect", "--format", "{{.LogPath}}", self.name).strip(), path)

    def output(self) -> str:
        """What the app printed, both streams (the log Docker kept)."""
        done = subprocess.run(["docker", "logs", self.name], capture_output=True, text=True, timeout=60, check=True)
        return done.stdout + done.stderr

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
        """One request; its HTTP status (an error status is an answer too)."""
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.read()
            return int(error.code)

    def health(self) -> dict[str, Any] | None:
        """The app's own view of itself, or None while it does not answer."""
        try:
            with urllib.request.urlopen(self.url + "/api/v1/health", timeout=5) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def wait_healthy(self, timeout: float = 90, redis: str = "up") -> None:
        """Until /health answers with every Redis client in state `redis`; fails with the app's output."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.health()
            if state is not None and set(state["redis"].values()) == {redis}:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the app was not healthy (redis {redis}) in {timeout} s: {state}\n{self.output()[-3000:]}"
                )
            time.sleep(0.05)
