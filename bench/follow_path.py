"""The follower's per-line path without a Docker daemon: a json-file log (as dockerd writes it) read by the
json-file reader, through the container reader's skip logic, into the follower (assembler, parsers, default
pack, checkpoint bookkeeping), in one thread. CPU time per line, so changes to that path can be compared
quickly; `bench/follow_throughput.py` measures the real thing against a daemon.

    python bench/follow_path.py         # 300,000 NestJS JSON access lines, best and median of 5 runs each

Runs with settle_heap() (as `logpipe follow` does) and without it alternate, so both see the same machine: on
a shared host the time per line of identical runs moved by 30 % between invocations. The time spent in the
garbage collector (what settle_heap changes) is clocked through gc.callbacks, which is far steadier.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

START = 1_795_770_000_000_000_000  # ns


def write_json_file_log(path: Path, lines: int) -> None:
    """NestJS JSON access lines as dockerd's json-file driver stores them, 1 µs apart."""
    with path.open("wb") as out:
        for i in range(lines):
            text = (
                f'{{"level":"log","pid":1,"timestamp":{1_795_770_000_000 + i},"message":"GET /api/v1/clips/clp_{i} '
                f'200 {i % 300}ms - 512b - 10.42.1.2","context":"HTTP"}}\n'
            )
            at = START + i * 1000
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at // 10**9)) + f".{at % 10**9:09d}Z"
            out.write(orjson.dumps({"log": text, "stream": "stdout", "time": stamp}) + b"\n")


def measure(log: Path, settle: bool, rules: Path | None = None, metrics: bool = False) -> dict[str, float]:
    """CPU of the follower's path over `log`; `metrics`: with the rule set's log-derived metrics counted, as
    `logpipe follow` counts them (bench/metrics_throughput.py compares)."""
    from logpipe.agent.checkpoints import Checkpointer
    from logpipe.agent.follower import Follower
    from logpipe.agent.outlet import Alone, Outlet
    from logpipe.agent.readers import Readers
    from logpipe.agent.stats import FollowStats
    from logpipe.engine import Engine, load_rules
    from logpipe.engine.metrics.model import MetricSet
    from logpipe.incidents.book import IncidentBook
    from logpipe.pipeline import settle_heap
    from logpipe.sources.docker.jsonfile import json_file_lines
    from logpipe.sources.docker.reader import ContainerReader, ReadOptions
    from logpipe.state.store import StateStore
    from logpipe.telemetry import Telemetry

    with tempfile.TemporaryDirectory() as scratch:
        store = StateStore(Path(scratch) / "state.sqlite", 10_000)
        ruleset = load_rules([rules] if rules is not None else None)
        engine = Engine(ruleset, metrics=MetricSet(ruleset.metrics) if metrics else None)
        alone = Alone(store)
        readers = Readers(None, ["api"], ReadOptions(), store.progress.checkpoints)  # never started: no Docker here
        stats = FollowStats(Telemetry())
        outlet = Outlet(lambda notification: None, None, alone)
        follower = Follower(readers, engine, IncidentBook(ruleset), Checkpointer(store), stats, outlet, alone)

        class Handover:  # the reader's queue, handed straight to the follower (one thread: CPU per line)
            def put(self, item: tuple[str, str, Any]) -> None:
                _, name, payload = item
                follower.handle_lines(name, payload)  # what Follower.run does with a reader's batch

        stop = threading.Event()
        reader = ContainerReader(None, "api", Handover(), stop, {}, ReadOptions(until_exit=True))  # type: ignore[arg-type]
        if settle:
            settle_heap()
        in_gc = [0.0, 0.0]  # seconds spent collecting, start of the current collection

        def clock_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                in_gc[1] = time.perf_counter()
            else:
                in_gc[0] += time.perf_counter() - in_gc[1]

        gc.callbacks.append(clock_gc)
        started = time.process_time()
        reader._forward("0" * 64, json_file_lines(str(log), 0, False, lambda: False, stop))
        cpu = time.process_time() - started
        gc.callbacks.remove(clock_gc)
        return {"lines": stats.counters.lines.get("api", 0), "cpu": cpu, "gc": in_gc[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-settle", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, not args.no_settle)))
        return
    per_line: dict[str, list[float]] = {"settle_heap() (as logpipe follow)": [], "gc as Python sets it": []}
    in_gc: dict[str, list[float]] = {label: [] for label in per_line}
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "api-json.log"
        write_json_file_log(log, args.lines)
        for _ in range(args.repeat):
            for label, extra in zip(per_line, ([], ["--no-settle"]), strict=True):
                command = [sys.executable, __file__, "--child", str(log), *extra]
                run = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
                assert run["lines"] == args.lines, run
                per_line[label].append(run["cpu"] / args.lines * 1e6)
                in_gc[label].append(run["gc"] / args.lines * 1e6)
    print(f"follower path, {args.lines:,} json-file lines through the default pack, CPU per line, {args.repeat} runs")
    for label, times in per_line.items():
        best, median = min(times), statistics.median(times)
        print(
            f"  {label:<36} best {best:5.2f} µs ({1e6 / best:,.0f} lines/s), "
            f"median {median:5.2f} µs ({1e6 / median:,.0f} lines/s); in the garbage collector: median "
            f"{statistics.median(in_gc[label]):.2f} µs"
        )


if __name__ == "__main__":
    main()
