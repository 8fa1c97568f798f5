"""The agent's image, built and run as docs/deployment.md's Compose service runs: the Dockerfile on a Debian base made
on this machine (deploy/make-base-image.sh: debootstrap and `docker import`, since no registry is reachable), then
`docker-compose up` of the service `logpipe init` writes (non-root, read-only root file system, the Docker socket
and json-file directory mounted read-only, state in a named volume, the config mounted, the webhook URL from the
environment), following a sibling container. An alert reaches a real webhook and the image's HEALTHCHECK reports
healthy.

The build takes minutes when nothing is cached (debootstrap about 2, the build stage's compiler and mypyc about 4):
.ci/run makes the base and builds the image before `make test`, so here the build is Docker's cache at work. The
override file only adapts the test machine: `network_mode: host` (this daemon has no bridge network; the receiver
listens on loopback) and a 1 s health interval."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from logpipe.deploy.scaffold import COMPOSE_FILE, CONFIG_FILE, Running, write_starter_files
from tests.conftest import ROOT, run_dir, run_lock, unavailable
from tests.integration.receivers import HttpReceiver, free_port
from tests.lockdiff import canonical, locked_versions
from tests.waiting import wait_until

# the time an uncached build takes (.ci/run builds the image before the suite: there it comes from Docker's cache)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

BASE = "logpipe-base:bookworm"
IMAGE = "logpipe:test"
OUTAGE = (
    "[Nest] 1  - 11/27/2026, 9:03:0{n} AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying ({n})..."
)


def docker(*arguments: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(["docker", *arguments], capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert done.returncode == 0, f"docker {' '.join(arguments)}: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def image() -> str:
    """The agent's image on the locally made base; cached by Docker after the first build (.ci/run's). Built
    once per run: a worker that needs it while another builds it waits for that build."""
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "info"], capture_output=True, check=False).returncode
    ):
        unavailable("no Docker daemon (tests/docker/docker-up.sh starts one)")
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose is not installed (apt-get install docker-compose)")
    if docker("image", "inspect", BASE, check=False) == "[]\n" and shutil.which("debootstrap") is None:
        unavailable(f"no {BASE} image and no debootstrap to make one (apt-get install debootstrap)")
    built = run_dir() / "image-built"
    with run_lock("image"):
        if not built.exists():
            made = subprocess.run(
                ["bash", str(ROOT / "deploy" / "make-base-image.sh"), BASE],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert made.returncode == 0, made.stderr[-3000:]
            docker("build", "--network", "host", "--build-arg", f"BASE={BASE}", "-t", IMAGE, str(ROOT), timeout=1800)
            built.touch()
    return IMAGE


@pytest.fixture
def sibling() -> Iterator[str]:
    """clipforge-api's stand-in: a busybox container printing a Postgres outage (three connection errors)."""
    name = f"lp-api-{uuid.uuid4().hex[:8]}"
    script = "sleep 3; " + "; ".join(f"printf '%s\\n' '{OUTAGE.format(n=n)}'" for n in (1, 2, 3)) + "; sleep 600"
    container = docker("run", "--detach", "--name", name, "--network", "none", "busybox:local", "sh", "-c", script)
    yield name
    docker("rm", "--force", container.strip(), check=False)


@pytest.fixture
def compose_project(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """The `docker-compose` command for a project of this test's own; `down --volumes` removes what it made."""
    command = ["docker-compose", "--project-name", f"lp-{uuid.uuid4().hex[:8]}"]
    files = ["--file", str(tmp_path / COMPOSE_FILE), "--file", str(tmp_path / "override.yml")]
    yield [*command, *files], tmp_path
    subprocess.run(
        [*command, *files, "down", "--volumes", "--timeout", "5"], capture_output=True, timeout=120, check=False
    )


def compose(command: list[str], *arguments: str, timeout: float = 180) -> str:
    done = subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(arguments)}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.parametrize("json_file", [False, True], ids=["engine-api", "json-file"])
def test_the_image_as_the_compose_service_follows_a_sibling_as_non_root_and_alerts(
    image: str,
    sibling: str,
    compose_project: tuple[list[str], Path],
    http_receiver: HttpReceiver,
    json_file: bool,
) -> None:
    command, directory = compose_project
    write_starter_files(directory, [Running(sibling, None, None)])  # what `logpipe init` writes
    config = directory / CONFIG_FILE
    config.write_text(
        config.read_text().replace(
            "channels: {}", 'channels:\n  ops-webhook: {url: "${OPS_WEBHOOK_URL}", kind: webhook}', 1
        )
    )
    service = yaml.safe_load((directory / COMPOSE_FILE).read_text())["services"]["logpipe"]
    metrics = free_port()
    override: dict[str, Any] = {
        "image": image,
        "network_mode": "host",
        "command": [*service["command"][:2], f"127.0.0.1:{metrics}", *service["command"][3:]],
        "environment": {"OPS_WEBHOOK_URL": f"{http_receiver.url}/hooks/logpipe", "LOGPIPE_LOG_LEVEL": "info"},
        "healthcheck": {
            "test": [
                "CMD",
                "python",
                "-c",
                f"import urllib.request as u; u.urlopen('http://127.0.0.1:{metrics}/health')",
            ],
            "interval": "1s",
        },
    }
    if json_file:  # the json-file logs are root:root 0640 in 0710 directories: the root group reads them
        override["group_add"] = [*service["group_add"], "0"]
    daemon = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if daemon != "unix:///var/run/docker.sock":  # a daemon of its own (a test run's): its socket, its logs' place
        root = docker("info", "--format", "{{.DockerRootDir}}").strip()
        override["volumes"] = [
            f"{daemon.removeprefix('unix://')}:/var/run/docker.sock:ro",
            f"{root}/containers:{root}/containers:ro",  # where this daemon says the logs are
        ]
    (directory / "override.yml").write_text(yaml.safe_dump({"services": {"logpipe": override}}))
    assert service["read_only"] is True
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in service["volumes"]
    assert "/var/lib/docker/containers:/var/lib/docker/containers:ro" in service["volumes"]

    compose(command, "up", "--detach")
    agent = compose(command, "ps", "--quiet").strip()
    alert = wait_until(lambda: http_receiver.requests, what="the outage's notification at the webhook")[0].json()
    health = wait_until(
        lambda: (
            docker("inspect", "--format", "{{json .State.Health}}", agent).strip().startswith('{"Status":"healthy"')
        ),
        60,
        "the HEALTHCHECK's healthy",
    )
    inspected = json.loads(docker("inspect", agent))[0]
    logs = subprocess.run(["docker", "logs", agent], capture_output=True, text=True, timeout=60, check=True)

    assert (alert["rule"], alert["status"], alert["severity"]) == (
        "postgres-connection-errors-burst",
        "firing",
        "critical",
    )
    assert health
    assert docker("exec", agent, "id", "-u").strip() == "10001"
    assert inspected["HostConfig"]["ReadonlyRootfs"] is True
    reading = [json.loads(line) for line in logs.stderr.splitlines() if '"reading"' in line]
    assert [(r["container"], r["via"]) for r in reading][:1] == [(sibling, "json-file" if json_file else "api")]
    assert "Traceback" not in logs.stderr


def test_the_image_holds_exactly_the_locks_versions(image: str) -> None:
    listing = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)"
    printed = docker("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", listing)
    installed = {canonical(name): version for name, version in (line.split() for line in printed.splitlines())}
    locked = locked_versions()
    assert {name: v for name, v in installed.items() if name in locked and locked[name] != v} == {}
    assert set(installed) - set(locked) <= {"logpipe", "pip", "setuptools", "wheel"}
