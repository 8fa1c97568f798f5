"""Replay throughput with and without the pack's log-derived metrics, in one run: NestJS JSON through parse,
extractors, the pack's rules and windows, and (second configuration) the pack's metrics counted as `logpipe follow`
counts them.

    python bench/metrics_throughput.py                  # 1,000,000 lines, 4 runs of each, interleaved
    python bench/metrics_throughput.py --lines 200000 --repeat 3

"Without" is the pack minus rules/metrics.yml, so it pays nothing for the metrics' prefilter clients either. Runs
alternate between the two, each in a fresh process; the best of each is compared (this VM's timings vary by up
to 30 % between runs, the best is the steadiest figure) and the median is printed too.
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
    from logpipe.engine.metrics import MetricSet
    from logpipe.event import Origin
    from logpipe.pipeline import parse_lines, run_rules, settle_heap
    from logpipe.sources.file import read_lines

    ruleset = load_rules([rules])
    metric_set = MetricSet(ruleset.metrics) if with_metrics else None
    engine = Engine(ruleset, metrics=metric_set)
    settle_heap()
    started = time.perf_counter()
    alerts = 0
    with log.open("rb") as stream:
        for _ in run_rules(parse_lines(read_lines(stream, Origin("file", log.name))), engine):
            alerts += 1
    elapsed = time.perf_counter() - started
    series = sum(len(s) for s in metric_set.series) if metric_set is not None else 0
    return {
        "events": engine.events,
        "alerts": alerts,
        "seconds": elapsed,
        "metrics": len(ruleset.metrics),
        "series": series,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        log, rules, flag = args.child
        print(json.dumps(measure(Path(log), Path(rules), flag == "on")))
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
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(log), str(rules), flag],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[label].append(json.loads(child.stdout))
    print(f"{'':<16} {'best lines/s':>12} {'median':>9} {'metrics':>8} {'series':>7} {'alerts':>7} {'peak RSS':>9}")
    best = {}
    for label, results in runs.items():
        rates = [run["events"] / run["seconds"] for run in results]
        best[label] = max(rates)
        first = results[0]
        print(
            f"{label:<16} {max(rates):>12,.0f} {statistics.median(rates):>9,.0f} {int(first['metrics']):>8} "
            f"{int(first['series']):>7} {int(first['alerts']):>7} {max(r['peak_rss_mib'] for r in results):>5.1f} MiB"
        )
    drop = 1 - best["with metrics"] / best["without metrics"]
    print(f"throughput drop with the pack's metrics: {drop:.1%} (best against best; the budget is 10 %)")
    print(f"finished {time.strftime('%Y-%m-%d %H:%M:%S')}")


if __name__ == "__main__":
    main()
