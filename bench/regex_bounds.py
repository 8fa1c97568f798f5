"""Rule regexes before and after RE2: the time Python's `re` (what rules ran on before) and RE2 (what they run on
now) take on the issue's pathological patterns. `re` runs in a child process killed after --timeout seconds.

    .venv/bin/python bench/regex_bounds.py [--timeout 60]
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import re
import time

from logpipe.engine.linear import LinearRegex

PROCESS_CRASH = (
    r"FATAL ERROR: .*JavaScript heap out of memory|Reached heap limit Allocation failed|"
    r"node:internal/process/promises.* triggerUncaughtException|^\s*throw err;"
)
CASES = [
    ("(a|a)*b", "a" * 100_000, "100 KB of 'a'"),
    (r"(\w|\d)+$", "a" * 100_000 + "!", "100 KB of 'a' then '!'"),
    (".*.*.*=", "x" * 100_000, "100 KB of 'x'"),
    (PROCESS_CRASH, "FATAL ERROR: " * 80_000, "1 MB of 'FATAL ERROR: '"),
]


def _python_re(pattern: str, text: str) -> None:
    re.compile(pattern).search(text)


def time_python_re(pattern: str, text: str, timeout: float) -> str:
    child = multiprocessing.Process(target=_python_re, args=(pattern, text))
    started = time.perf_counter()
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return f"> {timeout:.0f} s (killed)"
    return f"{time.perf_counter() - started:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(f"machine: {multiprocessing.cpu_count()} cores, Python {platform.python_version()}")
    for pattern, text, described in CASES:
        regex = LinearRegex(pattern)
        started = time.perf_counter()
        regex.search(text)
        re2_seconds = time.perf_counter() - started
        shown = pattern if len(pattern) < 30 else "process-crash"
        before = time_python_re(pattern, text, args.timeout)
        print(f"{shown:16} on {described:26} re: {before:20} RE2: {re2_seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()
