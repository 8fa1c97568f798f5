"""Three `logpipe follow` processes, each following its own container on the real Docker daemon, sharing their
alerting state through a real redis-server: what the on-call webhook receives is what one logpipe watching the
whole fleet would send, across a kill -9 of one follower and Redis going away and back.

The containers log 30 seconds of traffic; the refund failures wait for the test's go files, which it gives once
Redis is away (host 0) and once it is back (host 1), so no step waits on the clock."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.docker.conftest import container, docker_client  # noqa: F401  (the Docker fixtures)
from tests.integration.receivers import HttpReceiver, free_port
from tests.integration.redisserver import RedisServer
from tests.waiting import wait_until

RULES = """
extract:
  - id: http
    regex: '^(?P<method>[A-Z]+) (?P<path>\\S+) (?P<status>\\d{3}) (?P<duration_ms>\\d+)ms'
    prefix: http
rules:
  - id: http-error-rate
    kind: ratio
    title: High HTTP error rate
    severity: critical
    runbook: look at the failing route
    base: {http.status: {exists: true}}
    match: {http.status: {gte: 500}}
    window: 20s
    evaluate_every: 2s
    min_base: 40
    for: 6s
    thresholds: {warning: 0.06, critical: 0.09}
    examples:
      match: ['GET /api/v1/clips 500 20ms - 10b - 10.0.0.1 "x"']
      no_match: ['GET /api/v1/clips 200 20ms - 10b - 10.0.0.1 "x"']
  - id: payment-failed
    title: Payment failed
    severity: critical
    runbook: check the provider
    match: {message: {contains: "Payment failed"}}
    throttle: 3s
    resolve_after: 8s
    examples: {match: ['Payment failed: card_declined']}
  - id: refund-failed
    title: Refund failed
    severity: critical
    runbook: check the provider
    match: {message: {contains: "Refund failed"}}
    throttle: 3s
    resolve_after: 60s
    examples: {match: ['Refund failed: insufficient balance']}
"""
ERRORS = (1, 3, 2)  # of 20 requests a second: 5 %, 15 %, 10 %; the fleet's rate is 10 %
PAYMENTS = {0: (6, 9), 1: (5, 8, 11), 2: (4, 7, 10)}  # seconds after the start: 8 failures, split
TRAFFIC = 30  # seconds of requests
REFUNDING = (0, 1)  # host 0's refund failures while Redis is away, host 1's after


def script(host: int) -> str:
    """A container's log: second by second after /go/now appears, then its refund failures after /go/refund-N."""
    steps = [
        "while [ ! -f /go/now ]; do sleep 0.05; done",
        "a() { j=0; while [ $j -lt 20 ]; do if [ $j -lt $1 ]; then s=500; else s=200; fi; "
        'echo "GET /api/v1/clips $s 20ms - 10b - 10.0.0.1 x"; j=$((j+1)); done; }',
    ]
    for second in range(TRAFFIC):
        steps.append(f"a {ERRORS[host]}")
        if second in PAYMENTS.get(host, ()):
            steps.append(f"echo 'Payment failed: card_declined (host {host})'")
        steps.append("sleep 1")
    if host in REFUNDING:
        steps.append(f"while [ ! -f /go/refund-{host} ]; do sleep 0.05; done")
        steps += [f"echo 'Refund failed: insufficient balance (host {host})'"] * 3
    steps.append("sleep 3600")
    return "; ".join(steps)


def start_follower(workdir: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "logpipe", "follow", name, "--config", str(workdir / "logpipe.yml")]
    command += ["--since", "beginning", "--format", "jsonl", "--no-view", "--metrics-address", f"127.0.0.1:{port}"]
    command += ["--events-out", str(workdir / "events.jsonl")]
    log = workdir / "follow.stderr"
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        start_new_session=True,
        cwd=workdir,
        env={**os.environ, "LOGPIPE_LOG_LEVEL": "info", "LOGPIPE_DOCKER_READ": "auto"},
    )


def fleet_members(workdir: Path) -> dict[str, str]:
    """`logpipe fleet`'s table, as a real subprocess: instance -> its row."""
    command = [sys.executable, "-m", "logpipe", "fleet", "--config", str(workdir / "logpipe.yml")]
    listed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True, cwd=workdir)
    return {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}


def health(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:  # 503: degraded, with the reasons
        return json.loads(error.read())  # type: ignore[no-any-return]
    except OSError:
        return {}


def has_status(port: int, status: str) -> bool:
    return health(port).get("status") == status


def events_matching(workdir: Path, text: str) -> int:
    """Events a follower has handled whose line holds `text` (its --events-out file, one JSON line each)."""
    try:
        return sum(1 for line in (workdir / "events.jsonl").read_text().splitlines() if text in line)
    except OSError:
        return 0


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own: it is stopped and started again mid-test."""
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
    except (OSError, RuntimeError) as error:
        from tests.conftest import unavailable

        unavailable(f"no redis-server: {error}")
    yield server
    server.stop()


def test_three_followers_sharing_redis_page_as_one_across_a_kill_and_a_redis_outage(
    tmp_path: Path,
    container: Callable[..., Any],  # noqa: F811
    http_receiver: HttpReceiver,
    outage_redis: RedisServer,
) -> None:
    go = tmp_path / "go"
    go.mkdir()
    prefix = f"fleet-{uuid.uuid4().hex[:8]}:"
    boxes = [container(script(host), volumes={str(go): {"bind": "/go", "mode": "ro"}}) for host in range(3)]
    ports = [free_port() for _ in range(3)]
    workdirs, followers = [], []
    try:
        for host, box in enumerate(boxes):
            workdir = tmp_path / f"host-{host}"
            (workdir / "rules").mkdir(parents=True)
            (workdir / "rules" / "fleet.yml").write_text(RULES)
            (workdir / "logpipe.yml").write_text(
                f"state_dir: state\nrules: [rules]\n"
                f"state: {{backend: redis, url: '{outage_redis.url}', prefix: '{prefix}', instance: host-{host}}}\n"
                f"channels:\n  oncall: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
                "routes: {critical: [oncall], warning: [oncall], info: [oncall]}\n"
                "outbox: {initial_backoff: 200ms, max_backoff: 1s}\n"
            )
            workdirs.append(workdir)
            followers.append(start_follower(workdir, box.name, ports[host]))
        for port in ports:
            wait_until(functools.partial(has_status, port, "ok"), what="the followers up")
        (go / "now").write_text("")

        def pages(rule: str, kind: str | None = None) -> list[dict[str, Any]]:
            bodies = [request.json() for request in list(http_receiver.requests)]
            return [b for b in bodies if b["rule"] == rule and (kind is None or b["status"] == kind)]

        # the burst: host 2 is killed with -9 once its share of it is counted and the first page is out
        (page,) = wait_until(lambda: pages("payment-failed", "firing"), what="the payment page")
        wait_until(lambda: events_matching(workdirs[2], "Payment failed") >= 3, what="host 2's three failures")
        shared = redis.Redis.from_url(outage_redis.url, decode_responses=True)
        counts = f"{prefix}n:{page['incident']}"  # each instance's matches in the incident
        wait_until(lambda: shared.hget(counts, "host-2") == "3", what=lambda: f"host 2's count in Redis: {counts}")
        shared.close()
        os.killpg(followers[2].pid, signal.SIGKILL)
        followers[2].wait(timeout=10)
        wait_until(lambda: pages("payment-failed", "resolved"), what="the payment incident resolved")
        wait_until(lambda: "gone (" in fleet_members(workdirs[0]).get("host-2", ""), what="host 2 gone")
        members = fleet_members(workdirs[0])
        assert members["host-0"].endswith(boxes[0].name), members  # followed, last seen, lag
        assert " s ago " in members["host-1"], members
        # restarted, as systemd would: it re-reads from its checkpoint, its incident restored; its counts are
        # absolute (never added twice) and the resolution it makes again is the fleet's already
        followers[2] = start_follower(workdirs[2], boxes[2].name, ports[2])
        resolved_again = '"kind":"resolved","rule":"payment-failed","by":"host-'
        wait_until(lambda: resolved_again in (workdirs[2] / "follow.stderr").read_text(), what="host 2 caught up")

        # Redis away once the traffic is over: health degraded, host 0's refund failures paged all the same
        for workdir in workdirs:
            wait_until(lambda w=workdir: events_matching(w, "GET /api") >= 20 * TRAFFIC, what="the traffic read")
        outage_redis.stop()
        for port in ports[:2]:
            wait_until(functools.partial(has_status, port, "degraded"), what="/health degraded")
            problem = health(port)["problems"]["state"]
            assert problem.startswith("state backend unreachable"), problem
        (go / "refund-0").write_text("")
        wait_until(lambda: pages("refund-failed", "firing"), what="the refund page while Redis is away")
        outage_redis.start()
        for port in ports[:2]:  # host 0 renamed its incident to the fleet's and claimed what it sent meanwhile
            wait_until(functools.partial(has_status, port, "ok"), what="/health ok again")
        (go / "refund-1").write_text("")
        wait_until(lambda: events_matching(workdirs[1], "Refund failed") >= 3, what="host 1's refund failures")
        # host 1 pages them or leaves them to host 0, whose page it was: its log says which
        claimed_by_host_0 = '"kind":"firing","rule":"refund-failed","by":"host-0"'
        wait_until(
            lambda: claimed_by_host_0 in (workdirs[1] / "follow.stderr").read_text(),
            what=lambda: f"host 1 leaving the refund page to host 0: {pages('refund-failed')}",
        )
    finally:
        for follower in followers:
            if follower.poll() is None:
                os.killpg(follower.pid, signal.SIGTERM)
                follower.wait(timeout=30)
    logs = "\n".join((w / "follow.stderr").read_text()[-3000:] for w in workdirs)

    keys = [request.headers["Idempotency-Key"] for request in http_receiver.requests]
    assert len(keys) == len(set(keys)), f"a notification was sent twice\n{logs}"
    rate = pages("http-error-rate")
    assert [(b["status"], b["severity"]) for b in rate] == [("firing", "critical")], f"{rate}\n{logs}"
    assert rate[0]["value"] == pytest.approx(0.10, abs=0.01)  # the fleet's rate, not a host's 5 or 15 %
    payment = pages("payment-failed")
    assert len({b["incident"] for b in payment}) == 1, payment
    assert [b["status"] for b in payment].count("firing") == 1, payment
    assert sum(b["count"] for b in payment) == 8 == payment[-1]["total"], payment  # none lost, none twice
    refunds = pages("refund-failed", "firing")
    assert len(refunds) == 1, f"{refunds}\n{logs}"  # paged while Redis was away, not again by host 1 after
