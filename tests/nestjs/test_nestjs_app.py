"""A real NestJS 11 app followed end to end in each of its logger modes: tests/nestjs/app/ (a Stripe webhook
verified by stripe-node's constructEvent, credits on Postgres through TypeORM, a cache and a BullMQ queue on
Redis through ioredis, a route that throws) runs in a container against a real Postgres and a real Redis, driven
by tests/nestjs/scenario.py, with `logpipe follow` on it and a `docker restart` in the middle.

What a user checks: every failure the scenario caused is counted once in its category (no more: a failure cut
into several events would count several times; no less), each kind of failure pages once and nothing else pages
(not the 4xx, not the near-miss latency, not the restart), and no secret the app printed is in logpipe's
outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.integration.databases import PostgresServer, RedisServer
from tests.integration.receivers import HttpReceiver, free_port
from tests.nestjs import accounting
from tests.nestjs.nestapp import MODES, AppUnavailable, NestApp, docker_available, node_modules
from tests.nestjs.scenario import STRIPE_KEY, WEBHOOK_SECRET, Scenario
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

DB_PASSWORD = "pw-Nest7vQ2mZr9xK"  # in the DSN the app prints at start-up


@pytest.fixture(scope="module")
def modules() -> Path:
    try:
        docker_available()
        return node_modules()
    except AppUnavailable as error:
        unavailable(str(error))
        raise


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


@pytest.fixture
def app(
    request: pytest.FixtureRequest, modules: Path, postgres_server: PostgresServer, redis_server: RedisServer
) -> Iterator[NestApp]:
    env = {
        "DATABASE_URL": postgres_server.url(DB_PASSWORD),
        "REDIS_URL": redis_server.url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    nest = NestApp(request.param, modules, free_port(), env)
    try:
        nest.start()
        nest.wait_healthy()
    except AppUnavailable as error:
        nest.remove()
        unavailable(str(error))
    yield nest
    nest.remove()


def follow(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    """`logpipe follow NAME` from the container's first line until it exits: alerts to stdout.jsonl, every event
    to events.jsonl, logpipe's own log to stderr.log."""
    command = [sys.executable, "-m", "logpipe", "follow", name, "--config", str(tmp_path / "logpipe.yml")]
    command += ["--since", "beginning", "--events-out", str(tmp_path / "events.jsonl"), "--format", "jsonl"]
    command += ["--until-exit"]
    return subprocess.Popen(
        command,
        stdout=(tmp_path / "stdout.jsonl").open("wb"),
        stderr=(tmp_path / "stderr.log").open("wb"),
        start_new_session=True,
        cwd=tmp_path,
        env={**os.environ, "LOGPIPE_LOG_LEVEL": "info"},
    )


@pytest.mark.parametrize("app", MODES, indirect=True)
def test_each_failure_of_the_nestjs_app_is_counted_once_and_pages_once_without_leaking_a_secret(
    tmp_path: Path,
    app: NestApp,
    postgres_server: PostgresServer,
    redis_server: RedisServer,
    http_receiver: HttpReceiver,
) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text(  # the host's disk is not under test: its usage must not page here
        f"state_dir: state\nresources: {{disk: false}}\n"
        f"channels:\n  oncall: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
    )
    follower = follow(tmp_path, app.name)
    try:
        scenario = Scenario(app, postgres_server, redis_server, users=f"usr_{app.mode}")
        expected = scenario.run()
        scenario.write(tmp_path / "expected.json")
        # every incident has made its first decision (group_wait over: paged, or folded into its cause)
        wait_until(
            lambda: (tmp_path / "state").exists() and not accounting.pending(accounting.incidents(config)),
            120,
            lambda: f"incidents still waiting: {accounting.pending(accounting.incidents(config))}",
        )
        app.stop()
        follower.wait(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, (tmp_path / "stderr.log").read_text()[-3000:]
    app.save_log(tmp_path / f"nestjs-{app.mode}.log")  # what the app printed, to read when this fails
    capture = os.environ.get(
        "LOGPIPE_NESTJS_CAPTURE"
    )  # examples/nestjs-*.log are made so (docs/development.md, Examples)
    if capture:
        shutil.copyfile(tmp_path / f"nestjs-{app.mode}.log", Path(capture) / f"nestjs-{app.mode}.log")
        shutil.copyfile(tmp_path / "expected.json", Path(capture) / "nestjs-expected.json")

    counted = accounting.categories_counted(accounting.events_of(tmp_path / "events.jsonl"))
    records = accounting.incidents(config)
    paged = accounting.pages(records)
    firing = [body for body in (r.json() for r in http_receiver.requests) if body["status"] == "firing"]
    report = {"mode": app.mode, "expected": dict(expected.failures), "counted": dict(counted), "pages": dict(paged)}
    print(json.dumps(report))
    (tmp_path / "report.json").write_text(json.dumps(report) + "\n")

    assert {c: counted[c] for c in expected.failures} == dict(expected.failures)  # each failure once
    assert +counted == +expected.failures  # and nothing else counted as a failure
    assert dict(paged) == expected.pages()  # each kind of failure pages once, nothing else pages
    assert len(firing) == sum(expected.pages().values())  # what the channel received: those pages, once each
    # 5xx under the error-rate threshold: the failures paged for themselves, the error rate did not page again
    assert sum(n for status, n in expected.requests.items() if status >= 500) / expected.requests.total() < 0.05

    outputs = {
        "channel": "".join(r.body.decode() for r in http_receiver.requests),
        "events": (tmp_path / "events.jsonl").read_text(),
        "alerts": (tmp_path / "stdout.jsonl").read_text(),
        "logpipe's log": (tmp_path / "stderr.log").read_text(),
        "incidents": json.dumps(records),
    }
    secrets = (DB_PASSWORD, STRIPE_KEY, WEBHOOK_SECRET)
    leaks = {name: [s for s in secrets if s in text] for name, text in outputs.items()}
    assert leaks == {name: [] for name in outputs}
    printed = app.output()
    assert [s for s in secrets if s in printed] == list(secrets)  # the app did print them: the test would see a leak
