"""Follower benchmark against a real Docker daemon (start one with tests/docker/docker-up.sh).

    python bench/follow_throughput.py                 # 500,000 NestJS JSON access lines; latency at 1,000 lines/s

1. Read rate: a container prints N lines as fast as it can and exits; then `docker logs` and `logpipe follow
   --until-exit` (default pack; through the Engine API, and reading the json-file log directly) each read all
   of it. Lines/s, CPU seconds per line (client, and dockerd from /proc), peak RSS of logpipe.
2. Live rate: the same, but each follower follows the container as it writes (`docker logs -f`): lines over the
   time from the container's start to the follower's end (logpipe waits for the start; its start-up not counted).
3. Latency: a container prints a line every ms for 10 s, each firing a per-line rule (the webhook receiver down,
   so alerts pile up in the outbox); the time from a line's Docker timestamp to its alert committed in the outbox,
   p50 and p99, per read path. logpipe starts first and waits for the container: its start-up is not counted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import orjson

GENERATOR = (
    'awk \'BEGIN{for(i=0;i<%d;i++) printf "{\\"level\\":\\"log\\",\\"pid\\":1,\\"timestamp\\":%%d,'
    '\\"message\\":\\"GET /api/v1/clips/clp_%%d 200 %%dms - 512b - 10.42.1.2\\",\\"context\\":'
    '\\"HTTP\\"}\\n", 1795770000000+i, i, i%%300}\''
)


def dockerd_cpu() -> float:
    pid = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=False).stdout.split()
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, child CPU seconds, child peak RSS MiB) of a command, output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def follow_command(name: str, config: Path, read: str) -> list[str]:
    """`logpipe follow` from the beginning until the container exits, alerts as JSON lines."""
    return [
        sys.executable,
        "-m",
        "logpipe",
        "follow",
        name,
        "--since",
        "beginning",
        "--until-exit",
        "--format",
        "jsonl",
        "--no-view",
        "--read",
        read,
        "--config",
        str(config),
    ]


def fresh_config(workdir: Path, label: str) -> Path:
    """The default pack and a state directory of its own, so no run resumes from another's checkpoint."""
    config = workdir / f"{label}.yml"
    config.write_text(f"state_dir: {workdir / label}\n")
    return config


FOLLOWERS = ("docker logs", "logpipe --read api", "logpipe (json-file)")


def follower(label: str, name: str, workdir: Path, live: bool) -> list[str]:
    if label == "docker logs":
        return ["docker", "logs", *(["-f"] if live else []), name]
    config = fresh_config(workdir, f"{label.rsplit(maxsplit=1)[-1]}-{live}")
    return follow_command(name, config, "api" if "api" in label else "auto")


@dataclass(frozen=True)
class Rate:
    """One follower's figures (bench/speed.py puts them next to issue 14's targets)."""

    label: str
    lines_per_second: float
    client_us_per_line: float  # CPU, user + system
    dockerd_us_per_line: float
    peak_rss_mib: float


def report(label: str, lines: int, wall: float, cpu: float, daemon: float, rss: float) -> Rate:
    rate = Rate(label, lines / wall, cpu / lines * 1e6, daemon / lines * 1e6, rss)
    print(
        f"  {label:<20} {rate.lines_per_second:>10,.0f} lines/s   client CPU {rate.client_us_per_line:5.1f} us/line"
        f"   dockerd CPU {rate.dockerd_us_per_line:5.1f} us/line"
        + (f"   peak RSS {rss:.0f} MiB" if label.startswith("logpipe") else "")
    )
    return rate


def read_rate(client: docker.DockerClient, lines: int, workdir: Path) -> list[Rate]:
    box = client.containers.run("busybox:local", ["sh", "-c", GENERATOR % lines], detach=True, network_mode="none")
    try:
        box.wait()
        print(f"read rate: an exited container's {lines:,} lines (json-file driver, vfs storage)")
        rates = []
        for label in FOLLOWERS:
            daemon_before = dockerd_cpu()
            wall, cpu, rss = run_child(follower(label, box.name, workdir, live=False))
            rates.append(report(label, lines, wall, cpu, dockerd_cpu() - daemon_before, rss))
        return rates
    finally:
        box.remove(force=True)


def live_rate(client: docker.DockerClient, lines: int, workdir: Path) -> list[Rate]:
    """A container printing `lines` as fast as it can, followed as it writes: lines over the time from the
    container's start to the follower's end (a follower that keeps up ends when the writer does). logpipe is
    started first and waits for the container, so its start-up (imports, rule loading) is not counted."""
    print(f"live: a container printing {lines:,} lines as fast as it can, followed as it writes")
    rates = []
    for label in FOLLOWERS:
        box = client.containers.create("busybox:local", ["sh", "-c", GENERATOR % lines], network_mode="none")
        try:
            daemon_before = dockerd_cpu()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            command = follower(label, box.name, workdir, live=True)
            process = None
            if label.startswith("logpipe"):
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(3)
            box.start()
            started = time.perf_counter()
            if process is None:  # `docker logs -f` needs a started container; it starts in milliseconds
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert process.wait() == 0
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            box.reload()
            state = box.attrs["State"]
            writer = _seconds(state["FinishedAt"]) - _seconds(state["StartedAt"])
            rates.append(report(label, lines, wall, cpu, dockerd_cpu() - daemon_before, after.ru_maxrss / 1024))
            print(f"  {'':<20} (the writer itself took {writer:.2f} s: {lines / writer:,.0f} lines/s)")
        finally:
            box.remove(force=True)
    return rates


def latency(client: docker.DockerClient, workdir: Path, read: str, seconds: int = 10) -> tuple[float, float]:
    """(p50, p99) in ms."""
    rules = workdir / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "every.yml").write_text(
        "rules:\n  - id: every-line\n    title: line\n    severity: critical\n    runbook: none\n"
        "    match: {message: {regex: 'tick (?P<n>\\d+)'}}\n    group_by: [n]\n    throttle: 1h\n"
        "    examples: {match: ['tick 1']}\n"
    )
    state = workdir / f"latency-state-{read}"
    (workdir / "latency.yml").write_text(
        f"state_dir: {state}\nrules: [rules]\nchannels:\n  sink: {{url: 'http://127.0.0.1:9/none', kind: webhook}}\n"
    )
    count = seconds * 1000
    box = client.containers.create(
        "busybox:local",
        ["sh", "-c", f'i=0; while [ $i -lt {count} ]; do echo "tick $i"; i=$((i+1)); usleep 1000; done'],
        network_mode="none",
    )
    try:
        follower = subprocess.Popen(
            follow_command(box.name, workdir / "latency.yml", read),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3)  # logpipe is up and waiting for the container to start: its start-up is not the latency
        box.start()
        assert follower.wait(timeout=seconds * 10) == 0
        with sqlite3.connect(state / "state.sqlite") as db:
            stored = db.execute("SELECT created, payload FROM alerts").fetchall()
        # the line's own notification: its incident's `resolved` is sent when the incident closes (at the end)
        rows = [
            (created, alert) for created, payload in stored if (alert := orjson.loads(payload))["status"] == "firing"
        ]
        delays = sorted(created - _event_seconds(alert["event"]) for created, alert in rows)
        rate = len(rows) / seconds
        p50, p99 = statistics.median(delays) * 1000, delays[int(len(delays) * 0.99)] * 1000
        print(
            f"latency (--read {read}): {len(rows):,} alerts at ~{rate:,.0f} lines/s, "
            f"Docker timestamp -> alert in the outbox: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"max {delays[-1] * 1000:.0f} ms"
        )
        return p50, p99
    finally:
        box.remove(force=True)


def _event_seconds(event: dict[str, object]) -> float:
    if "docker_time_ns" in event:
        return float(event["docker_time_ns"]) / 1e9  # type: ignore[arg-type]
    return _seconds(str(event["docker_time"]))


def _seconds(stamp: str) -> float:
    from logpipe.times import parse_iso8601

    value = parse_iso8601(stamp)
    assert value is not None
    return value / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    args = parser.parse_args()
    client = docker.from_env(timeout=120)
    print(f"machine: {os.cpu_count()} cores, docker {client.version()['Version']}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        read_rate(client, args.lines, workdir)
        live_rate(client, args.lines, workdir)
        for read in ("api", "auto"):
            latency(client, workdir, read)


if __name__ == "__main__":
    main()
