"""What keeping the report's trends costs a follower (logpipe/report/trends.py): the time of one flush (a snapshot
of the pack's metrics every 10 s, on its own thread: no per-line work), the size of trends.sqlite after 48 hours,
and the time to rebuild and render a day's report from it (report/fromstate.py), as the digest does.

48 hours of a busy ClipForge API are simulated on a fake clock: 100 NestJS access lines a minute over 12 routes
(2 % 5xx, durations 5 ms to 3 s), a credit failure and an unhandled exception now and then, through the default
pack's engine; the recorder flushes every 10 s of that clock.

    .venv/bin/python bench/trends_size.py
"""

from __future__ import annotations

import io
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from logpipe.engine import Engine, load_rules
from logpipe.engine.metrics.model import MetricSet
from logpipe.event import Origin
from logpipe.pipeline import parse_lines
from logpipe.report.fromstate import report_from_state
from logpipe.report.html import render_html
from logpipe.report.trends import MINUTE, TRENDS_FILE, TrendRecorder, TrendStore
from logpipe.sources.file import read_lines

HOURS, PER_MINUTE, ROUTES = 48, 100, 12
ACCESS = "[Nest] 1  - 11/30/2026, 7:59:01 AM     LOG [HTTP] {method} /api/v1/{route}/clp_{i}/x {status} {ms}ms - 120b\n"
CREDIT = (
    "[Nest] 1  - 11/30/2026, 7:59:03 AM   ERROR [CreditsService] Credit deduction failed for user usr_{i}: deadlock\n"
)
EXCEPTION = "[Nest] 1  - 11/30/2026, 7:59:04 AM   ERROR [ExceptionsHandler] TypeError: Cannot read x of undefined\n"


def minute_of_lines(rng: random.Random) -> str:
    lines = []
    for i in range(PER_MINUTE):
        status = 503 if rng.random() < 0.02 else rng.choice((200, 200, 200, 201, 404))
        method = rng.choice(("GET", "GET", "POST"))
        lines.append(ACCESS.format(method=method, route=f"r{rng.randrange(ROUTES)}", i=i, status=status,
                                   ms=int(rng.lognormvariate(4, 1.2)) + 5))  # fmt: skip
    if rng.random() < 0.1:
        lines.append(CREDIT.format(i=rng.randrange(1000)))
    if rng.random() < 0.05:
        lines.append(EXCEPTION)
    return "".join(lines)


def main() -> None:
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}")
    rng = random.Random(12)
    rules = load_rules(None)
    engine = Engine(rules, metrics=MetricSet(rules.metrics))
    start = (time.time_ns() - HOURS * 60 * MINUTE) // MINUTE * MINUTE
    clock = [start]
    flushes: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory)
        recorder = TrendRecorder(TrendStore(state / TRENDS_FILE), lambda: engine.metrics, HOURS * 60 * MINUTE,
                                 clock=lambda: clock[0])  # fmt: skip
        for minute in range(HOURS * 60):
            text = minute_of_lines(rng)
            for event in parse_lines(read_lines(io.BytesIO(text.encode()), Origin("file", "api.log"))):
                engine.process(event)
            for tick in range(6):  # every 10 s of the fake clock
                clock[0] = start + minute * MINUTE + tick * 10_000_000_000
                began = time.perf_counter()
                recorder.flush()
                flushes.append(time.perf_counter() - began)
        recorder.store.close()
        size = sum(path.stat().st_size for path in state.iterdir())
        series = len([key for key in recorder._last if not key.startswith("logpipe_")])

        until = clock[0]
        since = until - 24 * 60 * MINUTE
        began = time.perf_counter()
        store = TrendStore(state / TRENDS_FILE, read_only=True)
        rows = store.rows(since, until)
        store.close()
        report = report_from_state(rows, [], since, until, "bench", lambda rule: rule)
        rebuilt = time.perf_counter() - began
        began = time.perf_counter()
        page = render_html(report)
        rendered = time.perf_counter() - began
    print(f"{HOURS} h, {PER_MINUTE} requests/min over {ROUTES} routes: {series} series in the pack's metrics")
    print(
        f"flush (every 10 s, own thread): median {statistics.median(flushes) * 1000:.2f} ms, "
        f"p99 {sorted(flushes)[int(len(flushes) * 0.99)] * 1000:.2f} ms"
    )
    print(f"trends.sqlite after {HOURS} h: {size / 1e6:.1f} MB")
    print(
        f"a day's report: {len(report.minutes)} minutes, {report.requests} requests, "
        f"rebuilt in {rebuilt * 1000:.0f} ms, rendered in {rendered * 1000:.0f} ms, {len(page) / 1e6:.1f} MB of HTML"
    )


if __name__ == "__main__":
    main()
