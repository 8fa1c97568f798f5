"""A real Docker daemon for the follower's tests: started by docker-up.sh when none answers (CI does the same
before the suite). In CI a daemon that cannot start fails the run; elsewhere these tests are skipped."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker.daemon import stop_dockerd, suite_dockerd_pid

HERE = Path(__file__).parent
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client of the running daemon; when none answers, one started by docker-up.sh and stopped (by the pid
    docker-up.sh wrote, which a test that restarts it rewrites) when the session ends."""
    import docker

    started_here = False
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:
        started_here = True
        started = subprocess.run(
            ["bash", str(HERE / "docker-up.sh")], capture_output=True, text=True, timeout=600, check=False
        )
        if started.returncode != 0:
            message = f"no Docker daemon and docker-up.sh failed: {started.stderr[-500:]}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        client = docker.from_env(timeout=30)
    try:
        client.images.get("busybox:local")
    except Exception as error:
        subprocess.run(["bash", str(HERE / "docker-up.sh")], check=True, capture_output=True, timeout=600)
        client.images.get("busybox:local") if not error else None
    yield client
    client.close()
    pid = suite_dockerd_pid() if started_here else None
    if pid is not None and not stop_dockerd(pid):
        pytest.fail(f"the Docker daemon the suite started (pid {pid}) did not stop within 60 s")


@pytest.fixture
def container(docker_client: Any) -> Iterator[Callable[..., Any]]:
    """Run a busybox container with a shell script (no network unless `network=` names one); removed after the
    test, by id."""
    made: list[Any] = []

    def run(script: str, **options: Any) -> Any:
        name = options.pop("name", f"lp-test-{uuid.uuid4().hex[:8]}")
        if "network" not in options:
            options["network_mode"] = "none"
        made.append(
            docker_client.containers.run("busybox:local", ["sh", "-c", script], name=name, detach=True, **options)
        )
        return made[-1]

    yield run
    for item in made:
        try:
            item.remove(force=True)
        except Exception:
            continue


@pytest.fixture(autouse=True, params=["json-file", "api"])
def read_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every follower test runs over both ways logpipe reads a container's log: its json-file log directly (the
    default when readable, as here as root) and the Engine API."""
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto" if request.param == "json-file" else "api")
    return str(request.param)
