"""`logpipe follow` against a real Docker daemon: every numbered line handled once, across logpipe's and the
container's restarts."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.docker.daemon import PrivateDaemon
from tests.terminal import on_a_terminal
from tests.waiting import DEADLINE, wait_until

ROOT = Path(__file__).resolve().parents[2]


def follow(
    tmp_path: Path, name: str, out: str = "events.jsonl", *extra: str, until_exit: bool = True
) -> subprocess.Popen[bytes]:
    """Start `logpipe follow NAME` (from the beginning, events to `out`); its stderr goes to `<out>.stderr`, not
    to a pipe nobody reads while the test runs (a full pipe would block logpipe)."""
    config = tmp_path / "logpipe.yml"
    if not config.exists():
        config.write_text("state_dir: state\n")
    command = [
        sys.executable,
        "-m",
        "logpipe",
        "follow",
        name,
        "--config",
        str(config),
        "--since",
        "beginning",
        "--events-out",
        str(tmp_path / out),
        "--format",
        "jsonl",
        *extra,
    ]
    if until_exit:
        command.append("--until-exit")
    log = tmp_path / f"{out}.stderr"
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
        cwd=tmp_path,
        env={**os.environ, "LOGPIPE_LOG_LEVEL": "info"},  # what it did, to wait for and to read on a failure
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def logged(process: subprocess.Popen[bytes], text: str, timeout: float = DEADLINE) -> None:
    """Wait until logpipe's own log says `text` (it is up and doing what the test needs)."""
    log: Path = process.log  # type: ignore[attr-defined]

    def said() -> bool:
        assert process.poll() is None, log.read_text()
        return text in log.read_text()

    wait_until(said, timeout, lambda: f"{text!r} in logpipe's log: {log.read_text()[-3000:]}")


def finish(process: subprocess.Popen[bytes], timeout: float = DEADLINE) -> dict[str, Any]:
    process.wait(timeout=timeout)
    stderr: str = process.log.read_text()  # type: ignore[attr-defined]
    assert process.returncode == 0, stderr[-2000:]
    return json.loads(stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def handled(path: Path, count: int, prefix: str = "", timeout: float = DEADLINE) -> None:
    """Wait until logpipe has written at least `count` container events (starting with `prefix`) to `path`.
    Instead of a guessed sleep before a stop or a kill."""
    done = 0

    def enough() -> bool:
        nonlocal done
        try:
            done = sum(1 for event in log_lines(path) if event["message"].startswith(prefix))
        except (OSError, ValueError):  # not there yet, or a line cut mid-write
            done = 0
        return done >= count

    wait_until(enough, timeout, lambda: f"{count} events in {path.name} (there are {done})")


def log_lines(path: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in events if e["origin"]["source"] == "docker"]


def numbers(events: list[dict[str, Any]], prefix: str = "") -> collections.Counter[str]:
    return collections.Counter(e["message"] for e in events if e["message"].startswith(prefix))


@pytest.mark.both_read_paths
def test_every_line_of_both_streams_is_read_once_and_kept_apart(tmp_path: Path, container: Any) -> None:
    box = container('i=0; while [ $i -lt 500 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done')
    box.wait()
    counters = finish(follow(tmp_path, box.name))
    events = log_lines(tmp_path / "events.jsonl")
    assert counters["lines"] == {box.name: 1000}
    assert sorted(e["message"] for e in events if e["origin"]["stream"] == "stdout") == sorted(
        f"out {i}" for i in range(500)
    )
    assert sorted(e["message"] for e in events if e["origin"]["stream"] == "stderr") == sorted(
        f"err {i}" for i in range(500)
    )


@pytest.mark.both_read_paths
def test_a_second_run_resumes_after_its_checkpoint(tmp_path: Path, container: Any) -> None:
    box = container('i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done')
    box.wait()
    finish(follow(tmp_path, box.name, "first.jsonl"))
    assert finish(follow(tmp_path, box.name, "second.jsonl"))["lines"] == {}
    assert len(log_lines(tmp_path / "first.jsonl")) == 300


@pytest.mark.both_read_paths
def test_stopped_mid_stream_and_restarted_every_line_once(tmp_path: Path, container: Any) -> None:
    box = container('i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); usleep 1000; done')
    first = follow(tmp_path, box.name)
    handled(tmp_path / "events.jsonl", 200)  # mid-stream: the container writes for two seconds or more
    os.killpg(first.pid, signal.SIGTERM)  # a clean stop: buffers flushed, checkpoints saved
    first.wait(timeout=30)
    finish(follow(tmp_path, box.name))
    seen = numbers(log_lines(tmp_path / "events.jsonl"))
    assert seen == collections.Counter(f"line {i}" for i in range(2000))


@pytest.mark.both_read_paths
def test_restarted_after_the_last_line_it_repeats_none_of_it(tmp_path: Path, container: Any) -> None:
    """Stopped once it handled every line, started again after the container ended with nothing new: its warm-up
    re-reads the last lines to rebuild the rules' windows, and none comes out again (the last one, still open in
    the multi-line assembler when the warm-up ended, came out as a new event at the end)."""
    sync = tmp_path / "sync"
    sync.mkdir()
    box = container(
        'i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done; '
        "while [ ! -f /sync/go ]; do usleep 50000; done",
        volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
    )
    first = follow(tmp_path, box.name, until_exit=False)
    handled(tmp_path / "events.jsonl", 100)
    os.killpg(first.pid, signal.SIGTERM)
    first.wait(timeout=30)
    (sync / "go").touch()  # the container ends, with no line after those handled
    assert finish(follow(tmp_path, box.name))["lines"] == {}
    assert numbers(log_lines(tmp_path / "events.jsonl")) == collections.Counter(f"line {i}" for i in range(100))


@pytest.mark.both_read_paths
def test_killed_at_random_points_under_load_every_line_exactly_once(tmp_path: Path, container: Any) -> None:
    """kill -9 three times at random points while 3,000 lines arrive on each stream: the event output holds each
    line once (it is cut back to the last checkpoint on start, and what followed is read again)."""
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    box = container('i=0; while [ $i -lt 3000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); usleep 1500; done')
    for point in sorted(rng.sample(range(200, 4800), 3)):  # of the 6,000 events: each kill lands mid-stream
        process = follow(tmp_path, box.name)
        handled(tmp_path / "events.jsonl", point)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finish(follow(tmp_path, box.name))
    events = log_lines(tmp_path / "events.jsonl")
    assert numbers(events, "line ") == collections.Counter(f"line {i}" for i in range(3000)), f"seed {seed}"
    assert numbers(events, "err ") == collections.Counter(f"err {i}" for i in range(3000)), f"seed {seed}"


@pytest.mark.both_read_paths
def test_a_thousand_lines_with_one_timestamp_across_a_restart_exactly_once(
    tmp_path: Path, container: Any, docker_client: Any
) -> None:
    """Docker timestamps repeat (every chunk of a split line carries the first chunk's time, and a fast writer can
    share a clock tick). A container cannot be made to do that on demand, so the lines are written into its
    json-file log the way the daemon stores them; the daemon serves them as it would its own."""
    box = container("true")
    box.wait()
    log_path = Path(docker_client.api.inspect_container(box.id)["LogPath"])

    def append(first: int, count: int, stream: str = "stdout", stamp: str = "2026-11-27T10:00:00.123456789Z") -> None:
        with log_path.open("ab") as log:
            for i in range(first, first + count):
                log.write(json.dumps({"log": f"{stream} {i}\n", "stream": stream, "time": stamp}).encode() + b"\n")

    append(0, 600)
    append(0, 10, "stderr")
    assert finish(follow(tmp_path, box.name))["lines"] == {box.name: 610}
    append(600, 400)  # the same timestamp again, after logpipe stopped
    append(10, 10, "stderr")
    append(1000, 1, stamp="2026-11-27T10:00:01.000000000Z")
    assert finish(follow(tmp_path, box.name))["lines"] == {box.name: 411}
    events = log_lines(tmp_path / "events.jsonl")
    assert numbers(events, "stdout ") == collections.Counter(f"stdout {i}" for i in range(1001))
    assert numbers(events, "stderr ") == collections.Counter(f"stderr {i}" for i in range(20))


@pytest.mark.both_read_paths
def test_identical_lines_at_one_timestamp_are_all_kept(tmp_path: Path, container: Any, docker_client: Any) -> None:
    """A burst of identical lines sharing a timestamp (a log written with coarse stamps) is every line, not a
    repeat to drop: the Engine API path dropped all but the first (the daemon's re-send at a rotation, which it
    guards against, happens only in a log that rotates)."""
    box = container("true")
    box.wait()
    log_path = Path(docker_client.api.inspect_container(box.id)["LogPath"])
    with log_path.open("ab") as log:
        for _ in range(5):
            record = {"log": "payment failed: card_declined\n", "stream": "stdout", "time": "2026-11-27T10:00:00Z"}
            log.write(json.dumps(record).encode() + b"\n")
    assert finish(follow(tmp_path, box.name))["lines"] == {box.name: 5}
    assert numbers(log_lines(tmp_path / "events.jsonl")) == collections.Counter({"payment failed: card_declined": 5})


@pytest.mark.both_read_paths
def test_a_log_rotated_while_followed_and_across_a_kill_every_line_exactly_once(tmp_path: Path, container: Any) -> None:
    """json-file rotation (max-size 10k, so about eight rotations): the direct reader finishes a rotated file
    before the new one and resumes across the rotated files after a kill -9; the Engine API does the same."""
    box = container(
        'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); usleep 3000; done',
        log_config={"Type": "json-file", "Config": {"max-size": "10k", "max-file": "30"}},
    )
    first = follow(tmp_path, box.name)
    handled(tmp_path / "events.jsonl", 300)  # a few rotations in (about 125 lines per 10k file)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    finish(follow(tmp_path, box.name))
    log_path = Path(box.client.api.inspect_container(box.id)["LogPath"])
    assert len(list(log_path.parent.glob(log_path.name + ".*"))) >= 5  # it did rotate
    seen = numbers(log_lines(tmp_path / "events.jsonl"), "line ")
    assert seen == collections.Counter(f"line {i}" for i in range(1000))


def test_until_exit_waits_for_a_created_container_to_start_and_finish(tmp_path: Path, docker_client: Any) -> None:
    """`docker create` (or compose, before its start): --until-exit waits for the start rather than taking a
    never-started container as one that exited."""
    box = docker_client.containers.create(
        "busybox:local",
        ["sh", "-c", 'i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done'],
        network_mode="none",
    )
    try:
        process = follow(tmp_path, box.name)
        logged(process, "reading")  # it found the created container (and its empty log)...
        assert process.poll() is None  # ...and waits for it to start rather than ending
        box.start()
        finish(process)
    finally:
        box.remove(force=True)
    assert numbers(log_lines(tmp_path / "events.jsonl")) == collections.Counter(f"line {i}" for i in range(100))


@pytest.mark.both_read_paths
def test_logpipe_down_while_the_container_writes_and_restarts_everything_after_it_starts(
    tmp_path: Path, container: Any
) -> None:
    """logpipe stops after the first run's first lines; while it is down the container finishes that run, crashes
    and is restarted twice by its policy; started again, logpipe delivers every line of every run exactly once."""
    sync = tmp_path / "sync"
    sync.mkdir()
    script = (  # the first run goes on past its tenth line once the test says logpipe is down
        "n=$(cat /tmp/run 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/run; "
        'i=0; while [ $i -lt 200 ]; do echo "run $n line $i"; i=$((i+1)); '
        "if [ $i -eq 10 ]; then while [ ! -f /sync/go ]; do usleep 50000; done; fi; done; "
        'echo "run $n last"; exit 3'
    )
    box = container(
        script,
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
        volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
    )
    first = follow(tmp_path, box.name, until_exit=False)
    handled(tmp_path / "events.jsonl", 10, "run 1 line")  # the first run's first lines are handled
    os.killpg(first.pid, signal.SIGTERM)
    first.wait(timeout=30)
    (sync / "go").touch()

    def all_runs_ended() -> bool:  # while logpipe is down
        box.reload()
        return bool(box.attrs["RestartCount"] == 2 and not box.attrs["State"]["Running"])

    wait_until(all_runs_ended, what=lambda: f"the third run's end: {box.attrs['State']}")
    assert box.attrs["State"]["ExitCode"] == 3
    finish(follow(tmp_path, box.name))
    expected = collections.Counter(
        [f"run {r} line {i}" for r in (1, 2, 3) for i in range(200)] + [f"run {r} last" for r in (1, 2, 3)]
    )
    assert numbers(log_lines(tmp_path / "events.jsonl"), "run ") == expected


@pytest.mark.both_read_paths
def test_crash_loop_every_line_of_every_run_once_including_the_last(tmp_path: Path, container: Any) -> None:
    script = (
        "n=$(cat /tmp/run 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/run; "
        'i=0; while [ $i -lt 100 ]; do echo "run $n line $i"; i=$((i+1)); done; echo "run $n last"; exit 1'
    )
    box = container(script, restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    finish(follow(tmp_path, box.name))
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    lines = numbers([e for e in events if e["origin"]["source"] == "docker"])
    expected = collections.Counter(
        [f"run {r} line {i}" for r in (1, 2, 3) for i in range(100)] + [f"run {r} last" for r in (1, 2, 3)]
    )
    assert lines == expected
    deaths = [
        e for e in events if e["origin"]["source"] == "docker-events" and e["fields"]["docker"]["action"] == "die"
    ]
    assert deaths
    assert all(e["fields"]["docker"]["exitCode"] == 1 for e in deaths)


@pytest.mark.both_read_paths
def test_a_1_mib_line_between_stderr_lines_is_one_intact_event(tmp_path: Path, container: Any) -> None:
    script = (
        "echo 'err before' >&2; head -c 1048576 /dev/zero | tr '\\0' 'x' > /tmp/big; "
        "(cat /tmp/big; echo) & for i in 1 2 3 4 5; do echo \"err $i\" >&2; done; wait; echo 'out after'"
    )
    box = container(script)
    box.wait()
    finish(follow(tmp_path, box.name))
    events = log_lines(tmp_path / "events.jsonl")
    big = [e for e in events if e["message"].startswith("xxx")]
    assert len(big) == 1
    assert big[0]["message"] == "x" * 1048576
    assert "partial_merged" in big[0]["flags"]
    assert {e["message"] for e in events if e["origin"]["stream"] == "stderr"} == {
        "err before",
        "err 1",
        "err 2",
        "err 3",
        "err 4",
        "err 5",
    }


@pytest.mark.both_read_paths
def test_a_container_that_exited_before_logpipe_started_is_read_to_the_end(tmp_path: Path, container: Any) -> None:
    box = container('i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done; echo "the end"')
    box.wait()
    finish(follow(tmp_path, box.name))
    messages = [e["message"] for e in log_lines(tmp_path / "events.jsonl")]
    assert messages[-1] == "the end"
    assert len(messages) == 1001


def test_killed_under_load_every_alert_is_delivered_once_by_id(tmp_path: Path, container: Any) -> None:
    from tests.integration.receivers import HttpReceiver

    receiver = HttpReceiver().start()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "per-line.yml").write_text(
        "rules:\n  - id: every-line\n    title: line\n    severity: critical\n    runbook: none\n"
        "    match: {message: {regex: 'line (?P<n>\\d+)'}}\n    group_by: [n]\n    throttle: 1h\n"
        "    examples: {match: ['line 7']}\n"
    )
    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nrules: [rules]\nchannels:\n  ops: {{url: '{receiver.url}/a', kind: webhook}}\n"
    )
    box = container('i=0; while [ $i -lt 600 ]; do echo "line $i"; i=$((i+1)); usleep 2000; done')
    try:
        first = follow(tmp_path, box.name)
        handled(tmp_path / "events.jsonl", 100)
        os.killpg(first.pid, signal.SIGKILL)  # alerts queued, some delivered, checkpoint behind
        first.wait(timeout=30)
        finish(follow(tmp_path, box.name))
        # a page per line (the resolutions the container's end made follow them, and may still be queued)
        wait_until(
            lambda: (
                len({r.headers["Idempotency-Key"] for r in receiver.requests if r.json()["status"] == "firing"}) >= 600
            ),
            what=lambda: f"600 pages at the webhook ({len(receiver.requests)} requests)",
        )
        pages = [r for r in receiver.requests if r.json()["status"] == "firing"]
        by_key = {r.headers["Idempotency-Key"]: r.json()["group"]["n"] for r in pages}
        # each page once by its id; a send in flight at the kill may repeat, with the same Idempotency-Key
        assert sorted(by_key.values(), key=int) == [str(i) for i in range(600)]
        assert len(pages) - len(by_key) <= 1
    finally:
        receiver.stop()


def test_metrics_and_health_while_following(tmp_path: Path, container: Any) -> None:
    import urllib.request

    from tests.integration.receivers import free_port

    port = free_port()
    box = container('i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done; sleep 30')
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{port}", until_exit=False)
    try:
        # the last line's event is held open (a next line could continue it) until its stream is idle: the two
        # counts reach 300 one after the other, each at a save
        read_all = f'logpipe_lines_read_total{{container="{box.name}",stream="stdout"}} 300.0'
        every_event = 'logpipe_events_total{parser="plain"} 300.0'

        def read_them_all() -> str:
            try:
                text = str(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode())
            except OSError:
                return ""
            return text if read_all in text and every_event in text else ""

        wait_until(read_them_all, what=f"{read_all} and {every_event} in /metrics")
        health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read())
        assert health == {"status": "ok", "problems": {}, "last_reload": None}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_read_lag_is_zero_for_a_quiet_container_read_to_its_end(tmp_path: Path, container: Any) -> None:
    """The read lag is the distance to the end of the log in Docker: a container that wrote its lines and went
    quiet, every line read, is 0 behind (it was the time since its last line, growing while nothing was unread)."""
    import urllib.request

    from tests.integration.receivers import free_port
    from tests.waiting import wait_until

    port = free_port()
    box = container('i=0; while [ $i -lt 50 ]; do echo "line $i"; i=$((i+1)); done; sleep 3600')
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{port}", until_exit=False)

    def sample(name: str) -> float | None:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            return None
        prefix = f'{name}{{container="{box.name}"'
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), None)

    try:
        wait_until(lambda: sample("logpipe_lines_read_total") == 50.0, what="the 50 lines read")
        # the last line is older than the follower's half-second report by now, and older still each time
        wait_until(
            lambda: sample("logpipe_read_lag_seconds") == 0.0, what=lambda: f"lag {sample('logpipe_read_lag_seconds')}"
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_recreated_ten_times_under_the_same_name_no_gap_no_duplicate(tmp_path: Path, docker_client: Any) -> None:
    """Each generation prints once logpipe has attached to it (a container removed before anyone reads it cannot
    be read by anyone), exits and is removed at once, as `docker compose up --force-recreate` does."""
    name = f"lp-recreate-{uuid.uuid4().hex[:8]}"
    sync = tmp_path / "sync"
    sync.mkdir()
    process = follow(tmp_path, name, until_exit=False)  # containers come and go: follow until stopped
    try:
        logged(process, "waiting for it")
        for generation in range(10):
            script = (
                f"while [ ! -f /sync/{generation} ]; do usleep 20000; done; "
                f'i=0; while [ $i -lt 50 ]; do echo "gen {generation} line $i"; i=$((i+1)); done'
            )
            box = docker_client.containers.run(
                "busybox:local",
                ["sh", "-c", script],
                name=name,
                detach=True,
                network_mode="none",
                volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
            )
            logged(process, box.id[:12])  # "reading" this generation
            (sync / str(generation)).touch()
            box.wait()
            box.remove(force=True)
        handled(tmp_path / "events.jsonl", 500, "gen ")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    seen = numbers(log_lines(tmp_path / "events.jsonl"))
    stderr = (tmp_path / "events.jsonl.stderr").read_text()
    assert seen == collections.Counter(f"gen {g} line {i}" for g in range(10) for i in range(50)), stderr[-3000:]


def test_window_and_throttle_state_survive_a_restart(tmp_path: Path, container: Any) -> None:
    """3 matches within 1 m fire the threshold rule, even with a logpipe restart after the second; a match within
    the throttle of an alert already sent does not alert again after the restart."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "db.yml").write_text(
        "rules:\n"
        "  - id: db-burst\n    kind: threshold\n    title: burst\n    runbook: none\n"
        "    match: {message: {contains: ECONNREFUSED}}\n    count: 3\n    window: 1m\n    throttle: 10m\n"
        "    examples: {match: ['connect ECONNREFUSED 1.2.3.4:5432']}\n"
        "  - id: db-error\n    title: error\n    runbook: none\n"
        "    match: {message: {contains: ECONNREFUSED}}\n    throttle: 10m\n"
        "    examples: {match: ['connect ECONNREFUSED 1.2.3.4:5432']}\n"
    )
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    sync = tmp_path / "sync"
    sync.mkdir()
    box = container(  # the third line waits for the test's go, given once the first logpipe is stopped
        "echo 'connect ECONNREFUSED 10.0.0.3:5432'; echo 'connect ECONNREFUSED 10.0.0.3:5432'; "
        "while [ ! -f /sync/go ]; do usleep 50000; done; echo 'connect ECONNREFUSED 10.0.0.3:5432'; sleep 1",
        volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
    )
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logpipe",
            "follow",
            box.name,
            "--config",
            str(tmp_path / "logpipe.yml"),
            "--since",
            "beginning",
            "--format",
            "jsonl",
            "--events-out",
            str(tmp_path / "events.jsonl"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=tmp_path,
    )
    out = tmp_path / "events.jsonl"

    def first_two_handled() -> bool:  # (and saved)
        assert first.poll() is None
        return out.exists() and len(log_lines(out)) >= 2

    wait_until(first_two_handled, what="the first two lines handled")
    os.killpg(first.pid, signal.SIGTERM)
    before = [json.loads(line) for line in first.communicate(timeout=30)[0].splitlines()]
    (sync / "go").touch()
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "logpipe",
            "follow",
            box.name,
            "--config",
            str(tmp_path / "logpipe.yml"),
            "--since",
            "beginning",
            "--until-exit",
            "--format",
            "jsonl",
        ],
        capture_output=True,
        timeout=DEADLINE,
        cwd=tmp_path,
        check=True,
    )
    after = [json.loads(line) for line in second.stdout.splitlines()]
    assert [(n["rule"], n["status"]) for n in before] == [("db-error", "firing")]  # the every-match page, once
    # the third match completes the window rebuilt from before the restart: db-burst pages with the 3 matches;
    # db-error's incident went on (no second page), and its end (the container's) reports the 2 matches since
    assert sorted((n["rule"], n["status"], n["count"], n["total"]) for n in after) == [
        ("db-burst", "firing", 3, 3),
        ("db-burst", "resolved", 0, 3),
        ("db-error", "resolved", 2, 3),
    ]
    assert {n["incident"] for n in after if n["rule"] == "db-error"} == {before[0]["incident"]}


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _health(port: int) -> dict[str, Any]:
    import urllib.request

    try:
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read())  # type: ignore[no-any-return]
    except OSError as error:
        if hasattr(error, "read"):  # 503 while degraded carries the same JSON body
            return json.loads(error.read())  # type: ignore[no-any-return]
        return {"status": f"unreachable: {error}"}


@pytest.mark.both_read_paths
def test_dockerd_restarted_under_load_logpipe_degrades_and_resumes_exactly_once(
    tmp_path: Path, private_daemon: PrivateDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon stops mid-stream (the container with it) and comes back (the container restarts, policy
    always): logpipe stays up, reports degraded meanwhile, and ends with exactly the lines the daemon kept. On a
    daemon of the test's own: stopping the host's would stop everyone else's containers."""
    import docker

    from tests.integration.receivers import free_port

    monkeypatch.setenv("DOCKER_HOST", private_daemon.host)  # for logpipe, started below
    client = docker.DockerClient(base_url=private_daemon.host, timeout=30)
    script = (
        "trap 'exit 0' TERM; r=$(cat /tmp/run 2>/dev/null || echo 0); r=$((r+1)); echo $r > /tmp/run; "
        'if [ $r -eq 1 ]; then i=0; while true; do echo "run 1 line $i"; echo "run 1 err $i" >&2; i=$((i+1)); '
        "usleep 1000; done; fi; "
        'i=0; while [ $i -lt 300 ]; do echo "run $r line $i"; i=$((i+1)); done; echo "run $r last"; '
        "while true; do usleep 100000; done"
    )
    box = client.containers.run(
        "busybox:local",
        ["sh", "-c", script],
        name=f"lp-test-{uuid.uuid4().hex[:8]}",
        detach=True,
        network_mode="none",
        restart_policy={"Name": "always"},
    )
    port = free_port()
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{port}", until_exit=False)
    events = tmp_path / "events.jsonl"
    try:
        handled(events, 100, "run 1 line")  # following, under load
        wait_until(lambda: _health(port)["status"] == "ok", what=lambda: f"/health ok: {_health(port)}")
        private_daemon.stop()
        wait_until(lambda: _health(port)["status"] == "degraded", what=lambda: f"/health degraded: {_health(port)}")
        private_daemon.start()
        handled(events, 1, "run 2 last")  # the container restarted with the daemon, and is followed again
        assert process.poll() is None, "logpipe exited when the daemon went away"
        # the events stream reconnects with a capped backoff
        wait_until(lambda: _health(port)["status"] == "ok", what=lambda: f"/health ok again: {_health(port)}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    kept = client.api.logs(box.id, stdout=True, stderr=True).decode().splitlines()
    box.remove(force=True)
    client.close()
    assert "run 2 last" in kept
    seen = numbers(log_lines(events), "run ")
    assert seen == collections.Counter(kept), (tmp_path / "events.jsonl.stderr").read_text()[-3000:]


def _docker_events(path: Path, action: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in events if e["origin"]["source"] == "docker-events" and e["fields"]["docker"]["action"] == action]


def test_a_death_the_daemon_no_longer_remembers_is_made_up_from_the_container_state(
    tmp_path: Path, container: Any
) -> None:
    """The daemon keeps its last 256 events. logpipe is down while the followed container dies and 300 other
    events push that death out: on start, logpipe compares the container's state with the events it has and
    reports the death once (and not again after another restart)."""
    followed = container("sleep 600")
    noisy = container("sleep 600")
    out = tmp_path / "events.jsonl"
    made_up = "made up from the container state"

    def run_until(condition: Any, what: str) -> str:
        """Run logpipe until its events watcher is live (what it replayed and made up is handed over) and
        `condition` holds; stop it (cleanly: events written, checkpoints saved); its log."""
        process = follow(tmp_path, followed.name, until_exit=False)
        logged(process, "following docker events")
        wait_until(condition, what=what)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        return str(process.log.read_text())  # type: ignore[attr-defined]

    assert made_up not in run_until(lambda: out.exists() and _docker_events(out, "start"), "the start event")
    followed.kill()  # SIGKILL: dies with exit code 137
    for _ in range(300):
        noisy.kill(signal="SIGUSR1")  # a "kill" event each; sleep as PID 1 ignores the signal
    assert made_up in run_until(lambda: _docker_events(out, "die"), "the death, made up")
    # a third run, with nothing new: reconciling (done before it follows live) makes nothing up twice
    assert made_up not in run_until(lambda: True, "nothing")
    deaths = _docker_events(out, "die")
    assert len(deaths) == 1, deaths
    assert deaths[0]["fields"]["docker"]["exitCode"] == 137
    assert deaths[0]["fields"]["docker"]["reconciled"] is True
    assert len(_docker_events(out, "start")) == 1


def test_on_a_terminal_follow_keeps_a_live_view_of_containers_lines_and_alerts(tmp_path: Path, container: Any) -> None:
    import re

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "boom.yml").write_text(
        "rules:\n  - id: boom\n    title: something went boom\n    severity: critical\n    runbook: none\n"
        "    match: {message: {contains: boom}}\n    examples: {match: ['boom']}\n"
    )
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    box = container('i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done; echo boom; sleep 2')
    until_end = ["--since", "beginning", "--until-exit"]
    code, screen = on_a_terminal(
        [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(tmp_path / "logpipe.yml"), *until_end],
        tmp_path,
    )
    assert code == 0, screen[-2000:]
    assert re.search(rf"{box.name}\s*│\s*\S.*│\s*201\s*│", screen), screen[-3000:]
    assert "alerts fired: 1" in screen
    assert "something went boom" in screen  # the alert itself, printed above the view


def test_the_default_pack_on_a_running_container_reaches_console_sentry_and_webhook(
    tmp_path: Path, container: Any, bugsink: Any, http_receiver: Any
) -> None:
    """`logpipe follow` with no --rules (the shipped ClipForge pack) on a container printing ClipForge's NestJS
    log: the payment failures and the Postgres outage (a failed credit deduction among its symptoms) are printed,
    posted to the webhook and stored in Sentry (Bugsink)."""
    from tests.conftest import EXAMPLES

    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nsentry: {{dsn: '{bugsink.dsn}', environment: test}}\n"
        f"channels:\n  ops-webhook: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
    )
    box = container(
        "sleep 1; cut -d' ' -f2- /examples/clipforge-api-text.log; sleep 1",  # without its saved timestamps
        volumes={str(EXAMPLES): {"bind": "/examples", "mode": "ro"}},
    )
    until_end = ["--since", "beginning", "--until-exit", "--format", "jsonl"]
    result = subprocess.run(
        [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(tmp_path / "logpipe.yml"), *until_end],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    every_match = {"stripe-webhook-signature", "razorpay-webhook-signature", "postgres-connection-errors-burst"}
    fired: dict[str, Any] = {}
    for alert in alerts:
        if alert["rule"] in every_match and alert["status"] == "firing":
            fired.setdefault(alert["rule"], alert)  # the page: a Sentry event (its resolution is a breadcrumb)
    assert set(fired) == every_match, [a["rule"] for a in alerts]
    # printed in one burst, the log's 40 s between the credit deduction's deadlock and the Postgres outage are
    # gone: the deadlock falls within its group_wait, and is told as a symptom of the outage (the pack's inhibits)
    told = [(a["rule"], s["rule"]) for a in alerts if a["status"] == "resolved" for s in a.get("symptoms") or []]
    assert ("postgres-connection-errors-burst", "credit-deduction-failed") in told, told
    assert all(a["event"]["origin"]["name"] == box.name for a in fired.values())
    posted = {r.headers["Idempotency-Key"] for r in http_receiver.wait_for(len(alerts))}
    assert {str(a["id"]) for a in alerts} <= posted
    for alert in fired.values():
        stored = bugsink.event(str(alert["id"]))
        assert stored is not None, alert["rule"]
        assert stored["tags"]["container"] == box.name


@pytest.mark.parametrize("read_path", ["api"], indirect=True)  # the json-file reader has no stream to stall
def test_a_silent_api_stream_is_reopened_in_case_it_stalled_without_losing_or_repeating(
    tmp_path: Path, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalled Engine API stream (the daemon's follower stuck) looks like a quiet container from the client:
    after LOGPIPE_IDLE_REOPEN seconds of silence the stream is reopened from the position, and the lines on
    either side of the silence come through once."""
    monkeypatch.setenv("LOGPIPE_IDLE_REOPEN", "1")
    monkeypatch.setenv("LOGPIPE_LOG_LEVEL", "info")
    sync = tmp_path / "sync"
    sync.mkdir()
    box = container(  # "after" waits for the test's go, given once logpipe has reopened the silent stream
        'echo "before 1"; echo "before 2"; while [ ! -f /sync/go ]; do usleep 50000; done; echo "after"; sleep 1',
        volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
    )
    process = follow(tmp_path, box.name)
    logged(process, "reopened in case it stalled")
    (sync / "go").touch()
    finish(process)
    assert numbers(log_lines(tmp_path / "events.jsonl")) == collections.Counter(["before 1", "before 2", "after"])


def test_a_compose_service_is_followed_by_its_name_across_a_recreation(tmp_path: Path, container: Any) -> None:
    """`logpipe follow clipforge-api` when Compose named the container clipforge-clipforge-api-1: the service
    label leads to it, and after a recreation (a new container of the service) to the new one."""
    service = f"lp-svc-{uuid.uuid4().hex[:8]}"
    labels = {"com.docker.compose.service": service, "com.docker.compose.project": "lp"}
    process = follow(tmp_path, service, until_exit=False)
    try:
        logged(process, "waiting for it")
        for number in (1, 2):
            box = container(
                f'i=0; while [ $i -lt 100 ]; do echo "replica {number} line $i"; i=$((i+1)); done; sleep 1',
                name=f"lp-{service}-{number}",
                labels=labels,
            )
            box.wait()
            handled(tmp_path / "events.jsonl", 1, f"replica {number} line 99")
            box.remove(force=True)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    lines = [e for e in events if e["origin"]["source"] == "docker"]
    assert numbers(lines) == collections.Counter(f"replica {n} line {i}" for n in (1, 2) for i in range(100))
    assert {e["origin"]["name"] for e in lines} == {service}  # alerts and checkpoints keyed by the service
    starts = [
        e for e in events if e["origin"]["source"] == "docker-events" and e["fields"]["docker"]["action"] == "start"
    ]
    assert [e["origin"]["name"] for e in starts] == [service, service]


def test_label_selects_containers_present_and_started_later_and_nothing_else(tmp_path: Path, container: Any) -> None:
    selector = f"lp.test={uuid.uuid4().hex[:8]}"
    key, _, value = selector.partition("=")
    before = container('i=0; while [ $i -lt 50 ]; do echo "before line $i"; i=$((i+1)); done', labels={key: value})
    other = container('i=0; while [ $i -lt 50 ]; do echo "other line $i"; i=$((i+1)); done; sleep 5')
    before.wait()
    process = follow(tmp_path, f"--label={selector}", until_exit=False)  # no NAME: the label alone
    try:
        logged(process, before.name)  # "following a container that carries the labels"
        later = container(
            'i=0; while [ $i -lt 50 ]; do echo "later line $i"; i=$((i+1)); done; sleep 1', labels={key: value}
        )
        later.wait()
        handled(tmp_path / "events.jsonl", 1, "later line 49")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    lines = log_lines(tmp_path / "events.jsonl")
    expected = [f"before line {i}" for i in range(50)] + [f"later line {i}" for i in range(50)]
    assert numbers(lines) == collections.Counter(expected)
    assert {e["origin"]["name"] for e in lines} == {before.name, later.name}
    assert other.name not in _read(tmp_path / "events.jsonl")
