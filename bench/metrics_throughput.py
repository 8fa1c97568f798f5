"""Replay throughput with and without the pack's log-derived metrics, in one run: NestJS JSON through parse,
extractors, the pack's rules and windows, and (second configuration) the pack's metrics counted as `logpipe follow`
counts them.

    python bench/metrics_throughput.py                  # 1,000,000 lines, 4 runs of each, interleaved
    python bench/metrics_throughput.py --lines 200000 --repeat 3
    python bench/metrics_throughput.py --lines 200000 --per-metric   # also: what each metric alone adds per line

"Without" is the pack minus rules/metrics.yml, so it pays nothing for the metrics' prefilter clients either. Runs
alternate between the two, each in a fresh process; the best of each is compared (this VM's timings vary by up
to 30 % between runs, the best is the steadiest figure) and the median is printed too. Lines per CPU second
(process time) is the figure to compare when other work shares the machine; wall-clock lines/s is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from parse_throughput import corpus  # noqa: E402


def measure(log: Path, rules: Path, with_metrics: bool) -> dict[str, float]:
    from logpipe.engine import Engine, load_rules
    from logpipe.engine.metrics.model import MetricSet
    from logpipe.event import Origin
    from logpipe.pipeline import parse_lines, read_ahead, run_rules, settle_heap
    from logpipe.sources.file import read_lines

    ruleset = load_rules([rules])
    metric_set = MetricSet(ruleset.metrics) if with_metrics else None
    engine = Engine(ruleset, metrics=metric_set)
    settle_heap()
    started, cpu_started = time.perf_counter(), time.process_time()
    alerts = 0
    with log.open("rb") as stream:
        # as `logpipe metrics FILE` reads a saved log: a batch at a time (pipeline.read_ahead)
        for _ in run_rules(read_ahead(parse_lines(read_lines(stream, Origin("file", log.name))), engine), engine):
            alerts += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    series = sum(len(s) for s in metric_set.series) if metric_set is not None else 0
    return {
        "events": engine.events,
        "alerts": alerts,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "metrics": len(ruleset.metrics),
        "series": series,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def per_metric(log: Path, lines: int, repeat: int) -> None:
    """CPU us per line that each of the pack's metrics adds alone (the engine only: parsing is the same either
    way), best of `repeat`, in this process; where to look when the total is over budget."""
    import io

    import yaml

    from logpipe.engine import Engine, default_rules_dir, load_rules
    from logpipe.engine.metrics.model import MetricSet
    from logpipe.event import Origin
    from logpipe.pipeline import parse_lines
    from logpipe.sources.file import read_lines

    with log.open("rb") as stream:
        head = b"".join(stream.readline() for _ in range(min(lines, 100_000)))
    events = list(parse_lines(read_lines(io.BytesIO(head), Origin("file", log.name))))
    definitions = yaml.safe_load((default_rules_dir() / "metrics.yml").read_text())["metrics"]

    def engine_us(names: list[str]) -> float:
        with tempfile.TemporaryDirectory() as scratch:
            rules = Path(scratch) / "pack"
            shutil.copytree(
                default_rules_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "__init__.py", "metrics.yml")
            )
            if names:
                chosen = [d for d in definitions if d["name"] in names]
                (rules / "metrics.yml").write_text(yaml.safe_dump({"metrics": chosen}))
            ruleset = load_rules([rules])
        best = float("inf")
        for _ in range(repeat):
            engine = Engine(ruleset, metrics=MetricSet(ruleset.metrics) if ruleset.metrics else None)
            started = time.process_time()
            for event in events:
                engine.process(event)
            best = min(best, time.process_time() - started)
        return best / len(events) * 1e6

    base = engine_us([])
    print(f"engine alone (parse excluded), {len(events):,} events: {base:.2f} us per event without metrics")
    print(f"  all metrics: +{engine_us([d['name'] for d in definitions]) - base:.2f} us")
    for definition in definitions:
        print(f"  {definition['name']} alone: +{engine_us([definition['name']]) - base:.2f} us")


def _child(flag: str, log: Path, rules: Path, metrics: str) -> dict[str, float]:
    command = [sys.executable, __file__, flag, str(log), str(rules), metrics]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--per-metric", action="store_true", help="also the cost of each metric alone")
    parser.add_argument("--follow-lines", type=int, default=300_000, help="lines of the follower's path (0: skip)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--follow-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        log, rules, flag = args.child
        print(json.dumps(measure(Path(log), Path(rules), flag == "on")))
        return
    if args.follow_child:
        from follow_path import measure as follow_measure

        log, rules, flag = args.follow_child
        print(json.dumps(follow_measure(Path(log), True, Path(rules), flag == "on")))
        return

    from logpipe.engine import default_rules_dir

    log = corpus("nest-json", args.lines)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"corpus: {log.name} ({args.lines:,} NestJS JSON lines: access logs, 1 % errors with stacks)")
    print(f"{args.repeat} runs of each, interleaved, each in a fresh process (one core)")
    with tempfile.TemporaryDirectory() as scratch:
        without = Path(scratch) / "pack-without-metrics"
        shutil.copytree(
            default_rules_dir(), without, ignore=shutil.ignore_patterns("__pycache__", "__init__.py", "metrics.yml")
        )
        configurations = {"without metrics": (without, "off"), "with metrics": (default_rules_dir(), "on")}
        runs: dict[str, list[dict[str, float]]] = {label: [] for label in configurations}
        for _ in range(args.repeat):
            for label, (rules, flag) in configurations.items():
                runs[label].append(_child("--child", log, rules, flag))
        follow: dict[str, list[float]] = {label: [] for label in configurations}
        if args.follow_lines:
            from follow_path import write_json_file_log

            json_file = Path(scratch) / "api-json.log"
            write_json_file_log(json_file, args.follow_lines)
            for _ in range(args.repeat):
                for label, (rules, flag) in configurations.items():
                    run = _child("--follow-child", json_file, rules, flag)
                    follow[label].append(run["lines"] / run["cpu"])
    print(
        f"{'':<16} {'lines/CPU-s':>11} {'median':>9} {'lines/s':>9} {'median':>9} {'metrics':>8} {'series':>7} "
        f"{'alerts':>7} {'peak RSS':>9}"
    )
    best_cpu, best_wall = {}, {}
    for label, results in runs.items():
        cpu = [run["events"] / run["cpu_seconds"] for run in results]
        wall = [run["events"] / run["seconds"] for run in results]
        best_cpu[label], best_wall[label] = max(cpu), max(wall)
        first = results[0]
        print(
            f"{label:<16} {max(cpu):>11,.0f} {statistics.median(cpu):>9,.0f} {max(wall):>9,.0f} "
            f"{statistics.median(wall):>9,.0f} {int(first['metrics']):>8} {int(first['series']):>7} "
            f"{int(first['alerts']):>7} {max(r['peak_rss_mib'] for r in results):>5.1f} MiB"
        )
    cpu_drop = 1 - best_cpu["with metrics"] / best_cpu["without metrics"]
    wall_drop = 1 - best_wall["with metrics"] / best_wall["without metrics"]
    print(
        f"throughput drop with the pack's metrics: {cpu_drop:.1%} per CPU second, {wall_drop:.1%} wall-clock "
        "(best against best; the budget is 10 %)"
    )
    if args.follow_lines:
        # what `logpipe follow` runs per line: the json-file reader, the follower's bookkeeping, the engine
        print(f"follower path ({args.follow_lines:,} json-file access lines, bench/follow_path.py), lines/CPU-s:")
        for label, rates in follow.items():
            print(f"  {label:<16} best {max(rates):>9,.0f}  median {statistics.median(rates):>9,.0f}")
        drop = 1 - max(follow["with metrics"]) / max(follow["without metrics"])
        print(f"  follow throughput drop with the pack's metrics: {drop:.1%} (best against best; the budget is 10 %)")
    if args.per_metric:
        per_metric(log, args.lines, args.repeat)
    print(f"finished {time.strftime('%Y-%m-%d %H:%M:%S')}")


if __name__ == "__main__":
    main()
