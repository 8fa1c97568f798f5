"""The json-file reader alone: a container's json-file log read to its end by `json_file_lines` (read, split,
decode the envelope, FileLine tuples), nothing after it. CPU per line, best and median of several runs, each in a
fresh process.

    python bench/jsonfile_decode.py                 # 1,000,000 NestJS JSON access lines, 5 runs
    python bench/jsonfile_decode.py --python        # the same with the Python decoder, on a compiled install too

The decoder in use is printed: "C" where setup.py built logpipe/sources/_jsonfile.c (LOGPIPE_COMPILE=1),
"Python" on a pure install or with --python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from follow_path import write_json_file_log


def measure(log: Path, python: bool) -> dict[str, float | str]:
    from logpipe.sources import jsonfile

    decoder = getattr(jsonfile, "decode_buffer", None)
    if python and decoder is not None:
        jsonfile.decode_buffer = jsonfile.decode_buffer_python
    name = "Python" if decoder is None or jsonfile.decode_buffer is jsonfile.decode_buffer_python else "C"
    if decoder is None:
        name = "Python (before the C decoder)"
    stopping = threading.Event()
    started = time.process_time()
    lines = sum(1 for _ in jsonfile.json_file_lines(str(log), 0, False, lambda: False, stopping))
    return {"cpu": time.process_time() - started, "lines": lines, "decoder": name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", action="store_true", help="the Python decoder even where the C one is built")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.python)))
        return
    per_line: list[float] = []
    decoder = ""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "api-json.log"
        write_json_file_log(log, args.lines)
        size = log.stat().st_size
        for _ in range(args.repeat):
            command = [sys.executable, __file__, "--child", str(log), *(["--python"] if args.python else [])]
            run = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            # every line, and one END per read
            assert run["lines"] >= args.lines, run
            per_line.append(run["cpu"] / args.lines * 1e6)
            decoder = run["decoder"]
    best, median = min(per_line), statistics.median(per_line)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"json-file reader alone, {args.lines:,} NestJS JSON access lines ({size / 2**20:.0f} MiB), "
        f"decoder: {decoder}, {args.repeat} runs, CPU per line:"
    )
    print(
        f"  best {best:.3f} µs ({1e6 / best:,.0f} lines/s, {size / 2**20 / (best * args.lines / 1e6):,.0f} MiB/s), "
        f"median {median:.3f} µs ({1e6 / median:,.0f} lines/s)"
    )


if __name__ == "__main__":
    main()
