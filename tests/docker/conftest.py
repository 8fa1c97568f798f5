"""A real Docker daemon for the follower's tests: the host's, started by docker-up.sh when none answers (CI does the
same before the suite) and left running. A test that stops and starts a daemon uses a private one
(tests/docker/daemon.py). In CI a daemon that cannot start fails the run; elsewhere these tests are skipped.

The follower reads a container's log two ways (its json-file log directly, or the Engine API): tests run over the
json-file log, and those about reading itself are marked `both_read_paths` and run over each."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import run_lock, unavailable
from tests.docker.daemon import PrivateDaemon, start_host_daemon

READ_PATHS = {"json-file": "auto", "api": "api"}  # the test's name for it -> LOGPIPE_DOCKER_READ


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client of the host's daemon (started when none answers, by one worker for all of them)."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get("busybox:local")
    except Exception:
        with run_lock("docker-up"):
            started = start_host_daemon()
        if started.returncode != 0:
            unavailable(f"no Docker daemon and docker-up.sh failed: {started.stderr[-500:]}")
        client = docker.from_env(timeout=30)
    yield client
    client.close()


@pytest.fixture(scope="session")
def private_daemon() -> Iterator[PrivateDaemon]:
    """A dockerd of this worker's own, for a test that stops and starts it."""
    daemon = PrivateDaemon()
    try:
        daemon.start()
    except (OSError, RuntimeError) as error:
        daemon.remove()
        unavailable(f"cannot start a private dockerd (needs root and docker.io): {error}")
    yield daemon
    daemon.remove()


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_read_paths") is not None:
        metafunc.parametrize("read_path", list(READ_PATHS), indirect=True)


@pytest.fixture(autouse=True)
def read_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How `logpipe follow` reads containers' logs in this test: the json-file log directly (the default when it
    is readable, as here as root), or the Engine API where the test is marked `both_read_paths`."""
    path = str(getattr(request, "param", "json-file"))
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", READ_PATHS[path])
    return path
