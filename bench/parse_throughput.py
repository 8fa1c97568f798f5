"""Parse throughput: lines/s and peak RSS, end to end over a file (read + detect + parse + Event built).

    python bench/parse_throughput.py                 # 1,000,000 lines per format
    python bench/parse_throughput.py --lines 200000  # quicker

Each format is measured in its own fresh process (one core), so peak RSS is that of parsing alone. Corpora are
generated once into bench/out/ (deterministic) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).parent / "out"
BASE_MS = 1_795_770_000_000  # 2026-11-27T09:00:00Z
PATHS = ["/api/v1/clips/clp_{:08x}", "/api/v1/credits/balance", "/api/v1/clips?page={}", "/api/v1/health"]
STACK = [
    "Error: connect ECONNREFUSED 172.18.0.3:5432",
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
    "    at TCPConnectWrap.callbackTrampoline (node:internal/async_hooks:130:17)",
]


def access(rng: random.Random) -> tuple[str, str, int, int]:
    path = rng.choice(PATHS).format(rng.randrange(16**8))
    status = 500 if rng.random() < 0.02 else 404 if rng.random() < 0.05 else 200
    return rng.choice(("GET", "GET", "POST")), path, status, rng.randint(3, 400)


def nest_json(rng: random.Random, index: int) -> list[str]:
    ms = BASE_MS + index * 3
    if index % 100 == 99:
        record = {
            "level": "error",
            "pid": 1,
            "timestamp": ms,
            "message": "Unable to connect to the database.",
            "context": "TypeOrmModule",
            "stack": "\n".join(STACK),
        }
    else:
        method, path, status, took = access(rng)
        record = {
            "level": "log",
            "pid": 1,
            "timestamp": ms,
            "context": "HTTP",
            "message": f'{method} {path} {status} {took}ms - {rng.randint(90, 9000)}b - 10.42.1.2 "Mozilla/5.0"',
        }
    return [json.dumps(record, separators=(",", ":"))]


def nest_text(rng: random.Random, index: int) -> list[str]:
    green, red, yellow, reset = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[39m"
    second = index * 3 // 1000
    stamp = f"11/27/2026, {9 + second // 3600 % 3}:{second // 60 % 60:02d}:{second % 60:02d}\u202fAM"
    if index % 100 == 99:
        head = (
            f"{red}[Nest] 1  - {reset}{stamp} {red}  ERROR{reset} {yellow}[ExceptionsHandler] {reset}"
            f"{red}connect ECONNREFUSED 172.18.0.3:5432{reset}{yellow} +2ms{reset}"
        )
        return [head, *STACK]
    method, path, status, took = access(rng)
    return [
        f"{green}[Nest] 1  - {reset}{stamp} {green}    LOG{reset} {yellow}[HTTP] {reset}"
        f"{green}{method} {path} {status} {took}ms - {rng.randint(90, 9000)}b - 10.42.1.2{reset}{yellow} +1ms{reset}"
    ]


def pino(rng: random.Random, index: int) -> list[str]:
    method, path, status, took = access(rng)
    record = {
        "level": 30 if status < 500 else 50,
        "time": BASE_MS + index * 3,
        "pid": 1,
        "hostname": "api",
        "req": {"id": index, "method": method, "url": path},
        "res": {"statusCode": status},
        "responseTime": took,
        "msg": "request completed",
    }
    return [json.dumps(record, separators=(",", ":"))]


def structlog_json(rng: random.Random, index: int) -> list[str]:
    ms = BASE_MS + index * 3
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}000Z"
    record = {
        "event": "clip rendered",
        "level": "info",
        "timestamp": stamp,
        "logger": "worker.render",
        "service": "clip-worker",
        "clip_id": f"clp_{rng.randrange(16**8):08x}",
        "duration_ms": rng.randint(80, 4000),
    }
    return [json.dumps(record, separators=(",", ":"))]


FORMATS: dict[str, Callable[[random.Random, int], list[str]]] = {
    "nest-json": nest_json,
    "nest-text": nest_text,
    "pino": pino,
    "structlog": structlog_json,
}


def corpus(name: str, lines: int, directory: Path = OUT) -> Path:
    """`lines` lines of format `name` in `directory` (generated once, the same every time: a fixed seed)."""
    path = directory / f"{name}-{lines}.log"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    rng, written = random.Random(7), 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        index = 0
        while written < lines:
            for line in FORMATS[name](rng, index)[: lines - written]:
                out.write(line + "\n")
                written += 1
            index += 1
    tmp.rename(path)
    return path


def measure(path: Path) -> dict[str, float]:
    """Runs in the child: parse the whole file, count lines and events."""
    from logpipe.event import Origin
    from logpipe.pipeline import parse_lines
    from logpipe.sources.file import read_lines

    started = time.perf_counter()
    cpu_started = time.process_time()
    events = lines = 0
    with path.open("rb") as stream:
        for event in parse_lines(read_lines(stream, Origin("file", path.name))):
            events += 1
            lines += event.lines
    elapsed = time.perf_counter() - started
    return {
        "lines": lines,
        "events": events,
        "seconds": elapsed,
        "cpu_seconds": time.process_time() - cpu_started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    print(f"best of {args.repeat} runs per format, each in a fresh process (this VM's timings vary by up to 30 %)")
    header = (
        f"{'format':<11} {'lines':>9} {'events':>9} {'best s':>7} {'lines/s':>9} {'slowest run':>11} {'peak RSS':>9}"
    )
    print(header)
    for name in args.formats.split(","):
        path = corpus(name, args.lines)
        runs = [_child_run(path) for _ in range(args.repeat)]
        rates = sorted(run["lines"] / run["seconds"] for run in runs)
        best = max(runs, key=lambda run: run["lines"] / run["seconds"])
        peak = max(run["peak_rss_mib"] for run in runs)
        print(
            f"{name:<11} {int(best['lines']):>9} {int(best['events']):>9} {best['seconds']:>7.2f} "
            f"{rates[-1]:>9,.0f} {rates[0]:>11,.0f} {peak:>5.1f} MiB"
        )


def _child_run(path: Path) -> dict[str, float]:
    child = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(child.stdout)
    return result


if __name__ == "__main__":
    main()
