"""What on-call receives from `logpipe follow` on a real Docker daemon: one incident per problem with every
match counted (across a kill -9), deploys told apart from crashes, silences and reloads of a running follower."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.docker.test_follow import _docker_events, follow, logged
from tests.waiting import DEADLINE, wait_until

pytestmark = pytest.mark.integration

RULES = """
extract:
  - id: user
    when: {message: {contains: usr_}}
    regex: '(?P<user>usr_[a-z0-9]+)'
    prefix: ctx
rules:
  - id: stripe-webhook-signature
    title: Stripe webhook signature verification failed
    severity: critical
    runbook: Compare STRIPE_WEBHOOK_SECRET with the endpoint's signing secret.
    match: {message: {contains: No signatures found matching the expected signature}}
    throttle: 3s
    resolve_after: 8s
    summary: [ctx.user]
    examples: {match: ['Webhook error: No signatures found matching the expected signature for usr_a']}
"""


def delivered(state: Path, sink: str) -> int:
    """Deliveries the outbox has marked done for a sink (read-only: the follower owns the store)."""
    if not state.exists():
        return 0
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM deliveries WHERE sink = ? AND state = 'delivered'", (sink,)
        ).fetchone()
    return int(count)


def test_a_burst_across_a_kill_is_one_incident_whose_counts_sum_to_the_matches(
    tmp_path: Path, container: Any, bugsink: Any, http_receiver: Any
) -> None:
    """5 Stripe signature failures from 3 users within a minute, logpipe killed with -9 after its first page and
    restarted: the webhook and Sentry get one firing, then updates and a resolution whose counts sum to 5 and name
    the 3 users, and no notification twice."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "payments.yml").write_text(RULES)
    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nrules: [rules]\nsentry: {{dsn: '{bugsink.dsn}', environment: test}}\n"
        f"channels:\n  oncall: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
        "routes: {critical: [sentry, oncall], warning: [sentry, oncall], info: [sentry, oncall]}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
    )
    go = tmp_path / "go"
    go.mkdir()
    users = ["usr_a", "usr_b", "usr_a", "usr_c", "usr_b"]
    script = (
        "while [ ! -f /go/now ]; do sleep 0.1; done; "
        + "".join(
            f'echo "Webhook error: No signatures found matching the expected signature for {user}" >&2; sleep 1.5; '
            for user in users
        )
        + "sleep 14; echo done"
    )
    box = container(script, volumes={str(go): {"bind": "/go", "mode": "ro"}})
    state = tmp_path / "state" / "state.sqlite"
    first = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(first, "reading")
        (go / "now").write_text("")
        wait_until(lambda: delivered(state, "oncall") >= 1, what="the first page delivered")
        os.killpg(first.pid, signal.SIGKILL)  # mid-burst: the first page is out, four failures to come
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    second = follow(tmp_path, box.name, "events.jsonl")  # until the container exits
    second.wait(timeout=DEADLINE)
    assert second.returncode == 0, second.log.read_text()[-3000:]  # type: ignore[attr-defined]

    def resolved() -> list[dict[str, Any]]:
        bodies = [request.json() for request in http_receiver.requests]
        return bodies if any(body["status"] == "resolved" for body in bodies) else []

    bodies = wait_until(resolved, what="the resolution at the webhook")
    keys = [request.headers["Idempotency-Key"] for request in http_receiver.requests]
    assert len(keys) == len(set(keys)), "a notification was sent twice"
    by_incident: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for body in bodies:
        by_incident[body["incident"]].append(body)
    assert len(by_incident) == 1, bodies
    (notifications,) = by_incident.values()
    assert notifications[0]["status"] == "firing"
    assert notifications[-1]["status"] == "resolved"
    assert {n["status"] for n in notifications[1:-1]} <= {"update"}
    assert sum(n["count"] for n in notifications) == 5 == notifications[-1]["total"]
    (summary,) = notifications[-1]["summary"]
    assert {item["value"]: item["count"] for item in summary["values"]} == {"usr_a": 2, "usr_b": 2, "usr_c": 1}
    # Sentry: the firing and the updates are events of one issue (the resolution is a breadcrumb)
    for notification in notifications[:-1]:
        stored = wait_until(lambda n=notification: bugsink.event(n["id"]), what=f"{notification['status']} in Bugsink")
        assert stored["tags"]["incident"] == notifications[0]["incident"]
        assert stored["tags"]["rule"] == "stripe-webhook-signature"


def test_a_deploy_is_a_notice_and_a_crash_an_oom_kill_or_a_crash_loop_a_page(
    tmp_path: Path, docker_client: Any, container: Any
) -> None:
    """With the default pack: `docker restart` and a recreation under the same name give an info notice, not a
    critical page; a container exiting 1 by itself, one the OOM killer stops, and one crash-looping do page."""
    label = f"lp-incidents-{uuid.uuid4().hex[:8]}"
    (tmp_path / "logpipe.yml").write_text("state_dir: state\n")
    command = [sys.executable, "-m", "logpipe", "follow", "--label", label, "--config", str(tmp_path / "logpipe.yml")]
    command += ["--since", "now", "--format", "jsonl", "--events-out", str(tmp_path / "events.jsonl")]
    out, err = (tmp_path / "out.jsonl").open("wb"), (tmp_path / "err.log").open("wb")
    follower = subprocess.Popen(
        command,
        stdout=out,
        stderr=err,
        start_new_session=True,
        cwd=tmp_path,
        env={**os.environ, "LOGPIPE_LOG_LEVEL": "info"},
    )
    labels = {label: "1"}
    stoppable = "trap 'exit 143' TERM; while true; do sleep 0.2; done"

    def started(name: str, times: int) -> bool:
        """Whether logpipe has handled `times` starts of the container (its Docker events, in --events-out)."""
        events = tmp_path / "events.jsonl"
        return events.exists() and sum(e["origin"]["name"] == name for e in _docker_events(events, "start")) >= times

    try:
        wait_until(lambda: "following docker events" in (tmp_path / "err.log").read_text(), what="the events stream")
        deployed = container(stoppable, labels=labels)
        recreated_name = f"lp-recreate-{uuid.uuid4().hex[:8]}"
        recreated = container(stoppable, labels=labels, name=recreated_name)
        crashed = container("sleep 1; exit 1", labels=labels)
        oom = container(
            "sleep 1; x=a; while true; do x=$x$x; done", labels=labels, mem_limit="32m", memswap_limit="32m"
        )
        looping = container("sleep 0.3; exit 3", labels=labels, restart_policy={"Name": "always"})
        wait_until(lambda: started(deployed.name, 1) and started(recreated_name, 1), what="the two starts handled")
        deployed.restart(timeout=5)
        recreated.stop(timeout=5)
        recreated.remove()
        container(stoppable, labels=labels, name=recreated_name)
        printed: list[dict[str, Any]] = []

        def paged_all() -> bool:
            printed[:] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
            critical = {(n["rule"], n["group"].get("docker.container")) for n in printed if n["severity"] == "critical"}
            return {
                ("container-died", crashed.name),
                ("container-died", oom.name),
                ("container-restart-loop", looping.name),
            } <= critical and any(n["rule"] == "container-restarted" for n in printed)

        wait_until(paged_all, what="the crash, OOM and crash-loop pages and the restart notice")
        # anything the deploys would wrongly page comes with their own events: wait until those are handled
        wait_until(lambda: started(deployed.name, 2) and started(recreated_name, 2), what="the deploys handled")
        paged_all()
        for quiet in (deployed.name, recreated_name):
            pages = [n for n in printed if n["group"].get("docker.container") == quiet and n["severity"] == "critical"]
            assert pages == [], pages
        notices = {n["group"]["docker.container"]: n for n in printed if n["rule"] == "container-restarted"}
        assert set(notices) == {deployed.name, recreated_name}, notices
        assert "restarted by Docker, down" in notices[deployed.name]["message"]
        oom_page = next(
            n for n in printed if n["rule"] == "container-died" and n["group"]["docker.container"] == oom.name
        )
        assert oom_page["event"]["fields"]["docker"]["exitCode"] == 137
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)
        out.close()
        err.close()


TRIGGERED = """
rules:
  - id: boom
    title: Something went boom
    severity: critical
    runbook: look
    match: {message: {contains: boom}}
    group_by: [message]
    throttle: 1m
    examples: {match: [boom 1]}
"""
LOOP = 'while true; do for f in /go/*.line; do [ -f "$f" ] && cat "$f" && rm -f "$f"; done; sleep 0.1; done'


def say(go: Path, text: str) -> None:
    """Make the container print a line now (it prints and removes each file it finds)."""
    path = go / f"{uuid.uuid4().hex}.line"
    path.with_suffix(".tmp").write_text(text + "\n")
    path.with_suffix(".tmp").rename(path)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logpipe", *args, "--config", str(tmp_path / "logpipe.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


def test_silence_add_list_and_expire_against_a_running_follower(
    tmp_path: Path, container: Any, http_receiver: Any
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "boom.yml").write_text(TRIGGERED)
    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nrules: [rules]\nchannels:\n  oncall: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
    )
    go = tmp_path / "go"
    go.mkdir()
    box = container(LOOP, volumes={str(go): {"bind": "/go", "mode": "rw"}})
    follower = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(follower, "reading")
        added = cli(tmp_path, "silence", "add", "--rule", "boom", "--for", "10m", "--reason", "maintenance")
        assert added.returncode == 0, added.stderr
        silence_id = added.stdout.split()[0]
        listed = cli(tmp_path, "silence", "list")
        assert silence_id in listed.stdout
        assert "active" in listed.stdout
        assert "maintenance" in listed.stdout
        in_force(follower, added=silence_id)  # the follower took it up
        say(go, "boom 1")

        def silenced() -> bool:
            shown = cli(tmp_path, "incidents", "--json").stdout.splitlines()
            return any(json.loads(line)["last_outcome"].startswith(f"silence {silence_id}") for line in shown)

        wait_until(silenced, what="the notification recorded as silenced")
        assert http_receiver.requests == []
        expired = cli(tmp_path, "silence", "expire", silence_id)
        assert expired.returncode == 0, expired.stderr
        in_force(follower, ended=silence_id)
        say(go, "boom 2")
        wait_until(lambda: http_receiver.requests, what="the page after the silence ended")
        assert [r.json()["group"]["message"] for r in http_receiver.requests] == ["boom 2"]
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)


def in_force(follower: subprocess.Popen[bytes], added: str = "", ended: str = "") -> None:
    """Wait until the follower's log says the silences in force changed: `added` taken up, or `ended`."""
    log: Path = follower.log  # type: ignore[attr-defined]

    def said() -> bool:
        changes = [json.loads(line) for line in log.read_text().splitlines() if "silences in force" in line]
        return any(added in change["added"] or ended in change["ended"] for change in changes)

    wait_until(said, what=lambda: f"silence {added or ended} {'in force' if added else 'ended'}: {log.read_text()}")


def test_reload_refuses_a_broken_rule_file_and_keeps_the_running_rules(tmp_path: Path, container: Any) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "boom.yml").write_text(TRIGGERED)
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    go = tmp_path / "go"
    go.mkdir()
    box = container(LOOP, volumes={str(go): {"bind": "/go", "mode": "rw"}})
    follower = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(follower, "reading")
        (rules / "broken.yml").write_text("rules:\n  - id: broken\n    title: x\n    match: {message: {regex: '('}}\n")
        reloaded = cli(tmp_path, "reload")
        assert reloaded.returncode == 1, reloaded.stderr  # refused, and the command says so
        assert f"{rules / 'broken.yml'}:2" in reloaded.stderr
        logged(follower, "reload refused")
        log_text = follower.log.read_text()  # type: ignore[attr-defined]
        assert f"{rules / 'broken.yml'}:2" in log_text  # file:line of the problem
        say(go, "boom 1")  # the old rules still match
        wait_until(lambda: "boom 1" in incidents(tmp_path), what="boom 1 matched by the running rules")
        (rules / "broken.yml").write_text(TRIGGERED.replace("boom", "bang").replace("id: bang", "id: bang"))
        assert cli(tmp_path, "reload").returncode == 0
        logged(follower, "rules reloaded")
        say(go, "bang 1")
        wait_until(lambda: "bang 1" in incidents(tmp_path), what="bang 1 matched by the reloaded rules")
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)


def incidents(tmp_path: Path) -> str:
    return cli(tmp_path, "incidents").stdout


ERROR_RATE = """
extract:
  - id: http
    regex: '^(?P<method>GET|POST) (?P<path>\\S+) (?P<status>\\d{3}) (?P<duration_ms>\\d+)ms'
    prefix: http
rules:
  - id: http-error-rate
    kind: ratio
    title: High HTTP error rate
    runbook: look
    base: {http.status: {exists: true}}
    match: {http.status: {gte: 500}}
    window: 1m
    evaluate_every: 10s
    min_base: 20
    thresholds: {warning: 0.05, critical: 0.10}
    examples: {match: ['GET /x 500 3ms']}
"""


# Both read paths: over the Engine API (slower to hand over its backlog) the container's own Docker events, stamped
# now, reached the engine before the backdated backlog and moved its watermark past it (they now wait for the lines).
@pytest.mark.parametrize("read", ["auto", "api"])
def test_a_backlog_is_judged_on_its_own_timestamps_as_a_replay_of_it_is(
    tmp_path: Path, container: Any, docker_client: Any, read: str
) -> None:
    """Five minutes of requests at a 33 % error rate, waiting in a container's log: following it fires the error
    rate exactly as `logpipe replay` of the same log does (the wall clock does not run ahead of the lines)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "http.yml").write_text(ERROR_RATE)
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    box = container("true")
    box.wait()
    log_path = Path(docker_client.api.inspect_container(box.id)["LogPath"])
    start = time.time_ns() - 450 * 10**9  # ends 2.5 minutes ago, more than a window: a backlog, not live
    with log_path.open("ab") as log:
        for second in range(300):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((start + second * 10**9) // 10**9))
            status = 500 if second % 3 == 0 else 200
            line = {"log": f"GET /api/v1/clips {status} 12ms\n", "stream": "stdout", "time": f"{stamp}.000000000Z"}
            log.write(json.dumps(line).encode() + b"\n")
    command = [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(tmp_path / "logpipe.yml")]
    followed = subprocess.run(
        [*command, "--since", "beginning", "--until-exit", "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
        env={**os.environ, "LOGPIPE_DOCKER_READ": read},  # both read paths (the API's is the slower to start)
    )
    assert followed.returncode == 0, followed.stderr[-2000:]
    replayed = cli(tmp_path, "replay", "--format", "jsonl", str(log_path))
    assert replayed.returncode == 0, replayed.stderr[-2000:]

    def told(stdout: str) -> list[tuple[str, str, str]]:
        return [(n["rule"], n["status"], n["severity"]) for n in map(json.loads, stdout.splitlines())]

    expected = [("http-error-rate", "firing", "critical"), ("http-error-rate", "resolved", "critical")]
    assert told(replayed.stdout) == expected
    assert told(followed.stdout) == expected  # before: the clock ran ahead of the backlog, and nothing fired


def nest_access_lines(log_path: Path, start_ns: int, seconds: int, per_second: int = 10) -> None:
    """Steady traffic, as ClipForge's NestJS access log prints it, written into the container's json-file log."""
    with log_path.open("ab") as log:
        for tick in range(seconds * per_second):
            at = start_ns + tick * 10**9 // per_second
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at // 10**9)) + f".{at % 10**9:09d}Z"
            text = '[Nest] 1  - 11/27/2026, 9:00:02 AM     LOG [HTTP] GET /api/v1/clips 200 12ms - 15b - 10.0.0.1 "x"\n'
            log.write(json.dumps({"log": text, "stream": "stdout", "time": stamp}).encode() + b"\n")


@pytest.mark.parametrize("read", ["auto", "api"])
def test_fifteen_minutes_of_steady_traffic_read_after_a_restart_fire_no_api_down(
    tmp_path: Path, container: Any, docker_client: Any, read: str
) -> None:
    """The default pack on 15 minutes of steady traffic waiting in a container's log, then two more minutes read by
    a restarted follower (its warm-up re-reads the first part): no `api-down`, as a replay of the log says. Before,
    the wall clock moved the engine to the present between two batches of the backlog or of the warm-up, and the
    minutes still queued looked like 5 minutes without a request."""
    (tmp_path / "logpipe.yml").write_text(f"state_dir: state\nrules: [{ROOT / 'rules'}]\n")
    box = container("true")
    box.wait()
    log_path = Path(docker_client.api.inspect_container(box.id)["LogPath"])
    now = time.time_ns()
    nest_access_lines(log_path, now - 1020 * 10**9, 900)  # 17 to 2 minutes ago
    command = [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(tmp_path / "logpipe.yml")]
    runs: list[subprocess.CompletedProcess[str]] = []
    for run in range(2):
        if run == 1:
            nest_access_lines(log_path, now - 120 * 10**9, 115)  # the last two minutes, for the restarted follower
        runs.append(
            subprocess.run(
                [*command, "--since", "beginning", "--until-exit", "--format", "jsonl"],
                capture_output=True,
                text=True,
                timeout=180,
                cwd=tmp_path,
                check=False,
                env={**os.environ, "LOGPIPE_DOCKER_READ": read},
            )
        )
        assert runs[-1].returncode == 0, runs[-1].stderr[-2000:]
    replayed = cli(tmp_path, "replay", "--format", "jsonl", str(log_path))
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    for output in (replayed.stdout, runs[0].stdout, runs[1].stdout):
        told = [json.loads(line) for line in output.splitlines()]
        assert [n["rule"] for n in told if n["rule"] == "api-down"] == []
    assert json.loads(runs[1].stderr.strip().splitlines()[-1])["lines"] == {box.name: 1150}  # only the new lines
