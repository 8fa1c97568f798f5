"""What `logpipe report` costs on a big log (issue 28, finding 16): the time, the peak memory (RSS of the process)
and the size of the page, for a NestJS log of LINES lines where a quarter are credit failures, each for a user of
its own (250k users affected at 1M lines), and the rest access lines (durations 5 ms to 3 s, 2 % 5xx).

The report lists the top users, messages and exceptions with a count of the rest (`+N more`); before the cap it
listed every user (a 16.6 MB page at 250k).

    .venv/bin/python bench/report_size.py --lines 1000000
    .venv/bin/python bench/report_size.py --lines 1000000 --source /tmp/before   # another revision's logpipe/:
    git archive REV logpipe rules | tar -x -C /tmp/before; ln -s ../rules /tmp/before/logpipe/defaultrules
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# logpipe's CLI from the tree named on the command line, past the editable install's finder (pure Python)
RUN_FROM = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path.insert(0, sys.argv.pop(1))
from logpipe.cli import main
sys.argv[0] = "logpipe"
main()
"""
START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
ACCESS = "[Nest] 1  - {when}     LOG [HTTP] {method} /api/v1/clips/clp_{i}/x {status} {ms}ms - 120b\n"
CREDIT = "[Nest] 1  - {when}   ERROR [CreditsService] Credit deduction failed for user usr_{i:x}: deadlock\n"


def write_log(path: Path, lines: int) -> None:
    rng = random.Random(28)
    with path.open("w") as out:
        for i in range(lines):
            when = (START + timedelta(seconds=i // 20)).strftime("%m/%d/%Y, %-I:%M:%S %p")
            if i % 4 == 0:
                out.write(CREDIT.format(when=when, i=i))
            else:
                status = 503 if rng.random() < 0.02 else 200
                method = rng.choice(("GET", "POST"))
                out.write(ACCESS.format(when=when, method=method, i=i % 5000, status=status, ms=rng.randint(5, 3000)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, help="run the logpipe/ package of this tree instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log, page = Path(tmp) / "api.log", Path(tmp) / "report.html"
        write_log(log, args.lines)
        logpipe = [str(Path(sys.executable).parent / "logpipe")]
        if args.source is not None:
            logpipe = [sys.executable, "-c", RUN_FROM, str(args.source)]
        started = time.perf_counter()
        with log.open("rb") as stdin:
            command = [*logpipe, "report", "-", "-o", str(page)]
            subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        took = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
        print(f"logpipe from {args.source or 'this install'}")
        print(f"lines: {args.lines:,}  users affected: {(args.lines + 3) // 4:,}")
        print(f"logpipe report: {took:.1f} s, peak RSS {peak:.0f} MiB, page {page.stat().st_size / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
