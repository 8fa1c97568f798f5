"""The json-file reader alone: a container's json-file log read to its end by `json_file_lines` (read, split,
decode the envelope, FileLine tuples), nothing after it; with --forward, also the container reader's hand-over
(ContainerReader._forward: the skip-what-was-handled logic, RawLines, batches). CPU per line, best and median of
several runs, each in a fresh process.

    python bench/jsonfile_decode.py                 # 1,000,000 NestJS JSON access lines, 5 runs
    python bench/jsonfile_decode.py --python        # the same with the Python decoder, on a compiled install too
    python bench/jsonfile_decode.py --forward       # and the container reader's hand-over (skip logic, RawLines)

The decoder in use is printed: "C" where setup.py built logpipe/sources/docker/_jsonfile.c (LOGPIPE_COMPILE=1),
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
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from follow_path import write_json_file_log


class _Discard:  # the reader's queue: batches counted and dropped
    lines = 0

    def put(self, item: tuple[str, str, list[Any]]) -> None:
        self.lines += len(item[2])


def measure(log: Path, python: bool, forward: bool) -> dict[str, float | str]:
    from logpipe.sources.docker import jsonfile
    from logpipe.sources.docker.reader import ContainerReader, ReadOptions

    decoder = getattr(jsonfile, "decode_buffer", None)
    if python and decoder is not None:
        jsonfile.decode_buffer = jsonfile.decode_buffer_python
    name = "Python" if decoder is None or jsonfile.decode_buffer is jsonfile.decode_buffer_python else "C"
    if decoder is None:
        name = "Python (before the C decoder)"
    stopping = threading.Event()
    read = jsonfile.json_file_lines(str(log), 0, False, lambda: False, stopping)
    started = time.process_time()
    if forward:
        out = _Discard()
        reader = ContainerReader(None, "api", out, stopping, {}, ReadOptions(until_exit=True))  # type: ignore[arg-type]
        reader._forward("0" * 64, read)
        lines = out.lines
    else:
        lines = sum(1 for _ in read)
    return {"cpu": time.process_time() - started, "lines": lines, "decoder": name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", action="store_true", help="the Python decoder even where the C one is built")
    parser.add_argument("--forward", action="store_true", help="through the container reader's hand-over too")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.python, args.forward)))
        return
    per_line: list[float] = []
    decoder = ""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "api-json.log"
        write_json_file_log(log, args.lines)
        size = log.stat().st_size
        for _ in range(args.repeat):
            options = [*(["--python"] if args.python else []), *(["--forward"] if args.forward else [])]
            command = [sys.executable, __file__, "--child", str(log), *options]
            run = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            # every line, and one END per read
            assert run["lines"] >= args.lines, run
            per_line.append(run["cpu"] / args.lines * 1e6)
            decoder = run["decoder"]
    best, median = min(per_line), statistics.median(per_line)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"json-file reader{' and hand-over' if args.forward else ' alone'}, {args.lines:,} NestJS JSON access lines "
        f"({size / 2**20:.0f} MiB), "
        f"decoder: {decoder}, {args.repeat} runs, CPU per line:"
    )
    print(
        f"  best {best:.3f} µs ({1e6 / best:,.0f} lines/s, {size / 2**20 / (best * args.lines / 1e6):,.0f} MiB/s), "
        f"median {median:.3f} µs ({1e6 / median:,.0f} lines/s)"
    )


if __name__ == "__main__":
    main()
