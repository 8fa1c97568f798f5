"""Issue 14's figures in one run, each next to its reference and its target, and a summary table at the end:

- `logpipe replay` lines/s on NestJS JSON and NestJS text (the full default pack), next to `grep -E -c -f` with the
  pack's patterns on the same file;
- the pack at 10, its own count, 50 and 200 rules (bench/rules_throughput.py's rule sets);
- against a real Docker daemon (bench/follow_throughput.py): the follow rate next to `docker logs -f` for both
  read paths (json-file and Engine API), CPU per line next to the Docker CLI's, p99 line-to-outbox latency at
  1,000 lines/s, peak RSS.

    python bench/speed.py                          # `make bench` runs this: about 6 minutes on 2 cores
    python bench/speed.py --repeat 5 --follow-lines 1000000
    python bench/speed.py --no-follow              # replay only, no Docker daemon needed

Replay is timed as a user runs it: a whole fresh process (start-up included), output to /dev/null, best of
--repeat. The pack-scaling rows take start-up out (the same command on an empty file loads the same rules), so a
bigger rule set's longer load does not pass for a cost per line. Without a Docker daemon answering, one is started
with tests/docker/docker-up.sh (as the tests do; root only) and stopped again, by its pid, at the end; if none can
be had, the follow figures are skipped and the summary says why.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from parse_throughput import corpus  # noqa: E402
from rules_throughput import grep_patterns, rule_dirs  # noqa: E402

DOCKERD_PIDFILE = Path("/tmp/logpipe-dockerd.pid")  # tests/docker/docker-up.sh writes it when it starts dockerd
REPLAY_TARGET = 500_000  # lines/s
SCALING_TARGET = 0.10  # at most this much slower at 200 rules than at 10
FOLLOW_TARGET = 0.95  # of `docker logs -f`'s rate
LATENCY_TARGET_MS = 250.0
RSS_TARGET_MIB = 100.0


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    peak_rss_mib: float


@dataclass(frozen=True)
class Row:
    measure: str
    figure: str
    reference: str
    target: str
    met: bool | None  # None: nothing to meet (a reference figure)


def timed(command: list[str], output: Path | None = None) -> Run:
    """One fresh process, its output discarded (or written to `output`); its own rusage (wait4), not the sum
    over all children."""
    started = time.perf_counter()
    with open(output or os.devnull, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best_of(command: list[str], repeat: int, output: Path | None = None) -> Run:
    runs = [timed(command, output) for _ in range(repeat)]
    return Run(min(r.wall for r in runs), min(r.cpu for r in runs), max(r.peak_rss_mib for r in runs))


def replay(log: Path, rules: Path | None = None) -> list[str]:
    """`logpipe replay` as issue 14 times it: JSON lines out (to /dev/null), the default pack unless `rules`."""
    chosen = ["--rules", str(rules)] if rules else []
    return [sys.executable, "-m", "logpipe", "replay", "--format", "jsonl", *chosen, str(log)]


def replay_figures(lines: int, repeat: int, workdir: Path) -> list[Row]:
    """Replay next to grep, per format."""
    from logpipe.engine import default_rules_dir

    patterns = workdir / "patterns.txt"
    ere = grep_patterns(default_rules_dir())
    patterns.write_text("\n".join(ere) + "\n")
    empty = workdir / "empty.log"
    empty.touch()
    start_up = best_of(replay(empty), repeat)
    print(f"replay: {lines:,} lines per format, the full pack, best of {repeat} fresh processes")
    print(
        f"  start-up (an empty file, the pack loaded): {start_up.wall:.2f} s, peak RSS {start_up.peak_rss_mib:.0f} MiB"
    )
    rows, runs = [], {}
    for name, label in (("nest-json", "NestJS JSON"), ("nest-text", "NestJS text")):
        log = corpus(name, lines)
        run = runs[name] = best_of(replay(log), repeat)
        # to a file: GNU grep writing to /dev/null stops at the first match (only its exit status can matter)
        grep = best_of(["grep", "-E", "-c", "-f", str(patterns), str(log)], repeat, workdir / "grep.out")
        rate, grep_rate = lines / run.wall, lines / grep.wall
        print(
            f"  {label:<12} {rate:>10,.0f} lines/s ({lines / (run.wall - start_up.wall):,.0f} after start-up; "
            f"{lines / run.cpu:,.0f} per CPU second), peak RSS {run.peak_rss_mib:.0f} MiB; "
            f"grep -E -c -f ({len(ere)} patterns) {grep_rate:,.0f} lines/s "
            f"({(workdir / 'grep.out').read_text().strip()} lines match)"
        )
        rows.append(
            Row(
                f"replay {label}, full pack",
                f"{rate:,.0f} lines/s",
                f"grep {grep_rate:,.0f} lines/s",
                f">= {REPLAY_TARGET:,} lines/s",
                rate >= REPLAY_TARGET,
            )
        )
    rows.append(Row("replay start-up (in the figures above)", f"{start_up.wall:.2f} s", "", "", None))
    peak = max(r.peak_rss_mib for r in runs.values())
    rows.append(Row("peak RSS, replay", f"{peak:.0f} MiB", "", f"< {RSS_TARGET_MIB:.0f} MiB", peak < RSS_TARGET_MIB))
    return rows


def scaling_figures(lines: int, repeat: int, workdir: Path) -> list[Row]:
    """NestJS JSON through the first 10 rules of the pack, the pack, and the pack plus generated rules up to 50 and
    200 (bench/rules_throughput.py's sets): lines/s with start-up taken out. The sets take turns, round after round,
    so a change in the machine's load falls on all of them alike."""
    from logpipe.engine import default_rules_dir

    log = corpus("nest-json", lines)
    empty = workdir / "empty.log"
    print(
        f"pack scaling: {lines:,} NestJS JSON lines, best of {repeat} interleaved, start-up (an empty file) taken out"
    )
    sets = rule_dirs(_fresh(workdir / "scaling"), default_rules_dir())
    full: dict[str, list[float]] = {label: [] for label in sets}
    start_up: dict[str, list[float]] = {label: [] for label in sets}
    for _ in range(repeat):
        for label, rules in sets.items():
            full[label].append(timed(replay(log, rules)).wall)
            start_up[label].append(timed(replay(empty, rules)).wall)
    rates: dict[str, float] = {}
    for label in sets:
        rates[label] = lines / (min(full[label]) - min(start_up[label]))
        print(f"  {label:<10} rules {rates[label]:>10,.0f} lines/s (start-up {min(start_up[label]):.2f} s)")
    ten, two_hundred = rates["10"], rates["200"]
    slower = 1 - two_hundred / ten
    others = ", ".join(f"{label}: {rate:,.0f}" for label, rate in rates.items() if label not in ("10", "200"))
    return [
        Row(
            "pack scaling, 10 -> 200 rules",
            f"{ten:,.0f} -> {two_hundred:,.0f} lines/s ({abs(slower):.0%} {'slower' if slower > 0 else 'faster'})",
            others,
            f"<= {SCALING_TARGET:.0%} slower",
            slower <= SCALING_TARGET,
        )
    ]


def _fresh(directory: Path) -> Path:
    directory.mkdir()
    return directory


def follow_figures(client: Any, lines: int, workdir: Path) -> list[Row]:
    import follow_throughput

    print(f"machine: docker {client.version()['Version']}")
    follow_throughput.read_rate(client, lines, workdir)
    live = {rate.label: rate for rate in follow_throughput.live_rate(client, lines, workdir)}
    latencies = {read: follow_throughput.latency(client, workdir, read) for read in ("auto", "api")}
    cli = live["docker logs"]
    rows = []
    for label, name, read in (
        ("logpipe (json-file)", "json-file", "auto"),
        ("logpipe --read api", "Engine API", "api"),
    ):
        rate = live[label]
        share = rate.lines_per_second / cli.lines_per_second
        rows += [
            Row(
                f"follow live, {name}",
                f"{rate.lines_per_second:,.0f} lines/s ({share:.0%})",
                f"docker logs -f {cli.lines_per_second:,.0f} lines/s",
                f">= {FOLLOW_TARGET:.0%}",
                share >= FOLLOW_TARGET,
            ),
            Row(
                f"CPU per line, {name}",
                f"{rate.client_us_per_line:.1f} us",
                f"docker logs -f {cli.client_us_per_line:.1f} us",
                "less than the CLI",
                rate.client_us_per_line < cli.client_us_per_line,
            ),
            Row(
                f"p99 line -> outbox, {name}",
                f"{latencies[read][1]:.0f} ms",
                "at 1,000 lines/s",
                f"< {LATENCY_TARGET_MS:.0f} ms",
                latencies[read][1] < LATENCY_TARGET_MS,
            ),
        ]
    peak = max(live[label].peak_rss_mib for label in live if label.startswith("logpipe"))
    rows.append(Row("peak RSS, follow", f"{peak:.0f} MiB", "", f"< {RSS_TARGET_MIB:.0f} MiB", peak < RSS_TARGET_MIB))
    return rows


@contextlib.contextmanager
def docker_daemon() -> Iterator[tuple[Any, str]]:
    """(a client, "") with a daemon answering and busybox:local there, or (None, why not). A daemon this starts
    (tests/docker/docker-up.sh) is stopped at the end, by its pid; anyone else's is left alone."""
    client = _client()
    started = None
    if client is None or not _has_image(client):
        if os.geteuid() != 0:
            yield None, "no Docker daemon with busybox:local here, and starting one needs root"
            return
        before = _pid(DOCKERD_PIDFILE)
        up = subprocess.run(
            ["bash", str(ROOT / "tests/docker/docker-up.sh")], capture_output=True, text=True, timeout=600, check=False
        )
        after = _pid(DOCKERD_PIDFILE)
        started = after if after is not None and after != before and _is_dockerd(after) else None
        client = _client()
        if up.returncode != 0 or client is None:
            _stop(started)
            yield None, f"tests/docker/docker-up.sh could not start one: {up.stderr.strip()[-300:]}"
            return
        if started:
            print(f"started a Docker daemon for this run (pid {started}); it is stopped at the end")
    try:
        yield client, ""
    finally:
        _stop(started)


def _client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception:  # no socket, or nothing answering on it: both mean "no daemon"
        return None
    return client


def _has_image(client: Any) -> bool:
    import docker

    try:
        client.images.get("busybox:local")
    except docker.errors.ImageNotFound:
        return False
    return True


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _is_dockerd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"dockerd")
    except OSError:
        return False


def _stop(pid: int | None) -> None:
    if pid is None or not _is_dockerd(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"stopped the Docker daemon this run started (pid {pid})")


def summary(rows: list[Row], skipped: str) -> None:
    header = Row("measure", "figure", "reference", "target", None)
    widths = [
        max(len(getattr(row, f)) for row in [header, *rows]) for f in ("measure", "figure", "reference", "target")
    ]

    def line(row: Row, met: str) -> str:
        cells = [row.measure, row.figure, row.reference, row.target]
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + f" | {met:<4} |"

    print(
        f"\nsummary (issue 14), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average now "
        f"{os.getloadavg()[0]:.1f} (other work on the machine slows every figure)"
    )
    print(line(header, "met?"))
    print("|" + "|".join("-" * (w + 2) for w in [*widths, 4]) + "|")
    for row in rows:
        print(line(row, "" if row.met is None else "yes" if row.met else "no"))
    if skipped:
        print(f"follow, CPU per line, latency and the follower's RSS: SKIPPED ({skipped})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per replay corpus")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per replay figure (the best counts)")
    parser.add_argument("--follow-lines", type=int, default=500_000, help="lines the followed container prints")
    parser.add_argument("--no-follow", action="store_true", help="skip the Docker figures")
    args = parser.parse_args()
    import docker

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; logpipe {_build()}; load average {os.getloadavg()[0]:.1f}"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        rows = replay_figures(args.lines, args.repeat, workdir)
        rows += scaling_figures(args.lines, args.repeat, workdir)
        skipped = "--no-follow" if args.no_follow else ""
        if not args.no_follow:
            with docker_daemon() as (client, why_not):
                if client is None:
                    skipped = why_not
                    print(f"follow: SKIPPED, {why_not}")
                else:
                    try:
                        rows += follow_figures(client, args.follow_lines, workdir)
                    except (
                        docker.errors.DockerException,
                        OSError,
                        subprocess.CalledProcessError,
                        AssertionError,
                    ) as error:
                        # the daemon is shared: another suite may stop or restart it (tests/docker restarts the one
                        # docker-up.sh started, whoever asked for it); the replay figures still stand
                        skipped = f"failed mid-run, the Docker daemon or a follower gave up: {error!r}"[:300]
                        print(f"follow: {skipped}")
    summary(rows, skipped)
    print(f"({time.monotonic() - started:.0f} s in all)")


def _build() -> str:
    """Compiled (the hot path's .so files, as `make install` builds it) or pure Python, as this run imports it."""
    import logpipe.engine.engine

    return "compiled (mypyc)" if logpipe.engine.engine.__file__.endswith(".so") else "pure Python"


if __name__ == "__main__":
    main()
