"""A Python worker followed end to end: tests/integration/clip_worker.py (logging through
`logpipe.logconfig.configure_logging`, real redis-py and psycopg clients) runs in a container against a real Redis
and a real Postgres; `logpipe follow` follows that container. Redis, then Postgres, are stopped and started again:
the pack's Python rules page through a real webhook for each outage and for the worker's own bug, and the
database password the worker printed is in none of logpipe's outputs.

The worker has a venv of its own with the service-side install (logpipe's wheel without the agent extra) and its
clients. Its container is busybox with the host's root file system mounted read-only and chrooted into: no image
can be pulled here, and this runs the worker with that venv while Docker captures its output in its json-file
log, as for any container. `--network host` lets it reach the servers on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, unavailable
from tests.docker.test_follow import finish, follow, handled
from tests.integration.databases import PostgresServer, RedisServer
from tests.integration.receivers import HttpReceiver
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SECRET = "pw-Zq8vN3kTr5wY"  # the worker's database password: in its DSN, which it logs and prints
WORKER = ROOT / "tests" / "integration" / "clip_worker.py"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        server.start()
    except RuntimeError as error:
        unavailable(f"Redis: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except RuntimeError as error:
        unavailable(f"Postgres: {error}")
    yield server
    server.remove()


@pytest.fixture(scope="module")
def worker_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker's own venv, as its image would hold it: the service-side install (`pip install logpipe`:
    structlog and orjson, no agent) and its clients, redis-py and psycopg."""
    venv = tmp_path_factory.mktemp("clip-worker") / "venv"
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), "redis>=5.0", "psycopg[binary]>=3.1"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin" / "python"


@pytest.fixture
def worker(redis_server: RedisServer, postgres_server: PostgresServer, worker_python: Path) -> Iterator[str]:
    """The worker's container (its name); removed after the test by id."""
    daemon = (
        subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
        if shutil.which("docker")
        else None
    )
    if daemon is None or daemon.returncode != 0:
        unavailable("no Docker daemon (tests/docker/docker-up.sh starts one)")
    name = f"lp-clip-worker-{uuid.uuid4().hex[:8]}"
    started = subprocess.run(
        [
            *("docker", "run", "--detach", "--name", name, "--network", "host"),
            *("--volume", "/:/host:ro", "--stop-timeout", "5"),
            *("--env", f"REDIS_URL={redis_server.url}", "--env", f"DATABASE_URL={postgres_server.url(SECRET)}"),
            *("--env", "PYTHONDONTWRITEBYTECODE=1", "--env", "PYTHONUNBUFFERED=1"),
            *("busybox:local", "chroot", "/host", str(worker_python), str(WORKER)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    yield name
    subprocess.run(["docker", "rm", "--force", container], capture_output=True, timeout=60, check=False)


def notified(receiver: HttpReceiver, rule: str) -> dict[str, Any]:
    """The first firing notification of `rule` the webhook received."""

    def firing() -> dict[str, Any] | None:
        bodies = [request.json() for request in list(receiver.requests)]
        return next((body for body in bodies if body["rule"] == rule and body["status"] == "firing"), None)

    def seen() -> str:
        return (
            f"a firing {rule}; received {sorted({(r.json()['rule'], r.json()['status']) for r in receiver.requests})}"
        )

    return wait_until(firing, what=seen)  # type: ignore[no-any-return]


def test_a_followed_python_worker_pages_for_each_outage_and_its_own_bug_without_leaking_its_password(
    tmp_path: Path,
    http_receiver: HttpReceiver,
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    worker: str,
) -> None:
    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nchannels:\n  ops: {{url: '{http_receiver.url}/hooks/logpipe', kind: webhook}}\n"
    )
    follower = follow(tmp_path, worker)
    handled(tmp_path / "events.jsonl", 3, prefix="clip rendered")  # Redis and Postgres both answer

    redis_server.stop()
    redis_down = notified(http_receiver, "python-redis-connection-errors-burst")
    redis_server.start()
    postgres_server.stop()
    postgres_down = notified(http_receiver, "python-postgres-connection-errors-burst")
    postgres_server.start()
    # the KeyError of every 7th job, once its group_wait (30 s) passed with no outage to fold it into
    bug = notified(http_receiver, "python-exception")
    subprocess.run(["docker", "stop", worker], capture_output=True, timeout=60, check=True)
    finish(follower)

    assert (redis_down["severity"], postgres_down["severity"], bug["severity"]) == ("critical", "critical", "warning")
    assert "Error 111 connecting to 127.0.0.1" in redis_down["message"] + json.dumps(redis_down["event"])
    assert "OperationalError" in json.dumps(postgres_down["event"])
    assert bug["group"] == {"service": "clip-worker", "exception.0.exc_type": "KeyError"}
    assert bug["event"]["fields"]["job_id"].startswith("job_")  # bound contextvars travel with the line
    # the outages' own exceptions were folded into their bursts, not paged as bugs of the worker
    assert {r.json()["group"].get("exception.0.exc_type") for r in http_receiver.requests} <= {None, "KeyError"}
    events = (tmp_path / "events.jsonl").read_text()
    assert "legacy debug: connecting with postgresql://[REDACTED]@127.0.0.1" in events  # caught by logpipe
    outputs = {
        "webhook": "".join(r.body.decode() for r in http_receiver.requests),
        "events": events,
        "logpipe's log": (tmp_path / "events.jsonl.stderr").read_text(),
    }
    assert {name: SECRET in text for name, text in outputs.items()} == dict.fromkeys(outputs, False)
    printed = subprocess.run(["docker", "logs", worker], capture_output=True, text=True, timeout=60, check=True)
    assert SECRET in printed.stdout  # the worker did print it: the test would catch a leak
