"""Soak: `logpipe follow` on a container writing ClipForge-like NestJS JSON at a steady rate, for minutes or hours;
logpipe's RSS sampled every 10 s, to show whether memory stays flat (needs a Docker daemon).

    python bench/follow_soak.py --minutes 10 --rate 2000

The writer prints access lines (random paths, 2 % 5xx, durations up to 8 s), errors with stack traces, and
Postgres connection errors, so windows, groups, throttles and the outbox all hold state. Printed: lines read, RSS
after the first minute, its maximum and its last value, and the growth per hour over the run after that minute.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import docker

_ERROR = (
    r"{\"level\":\"error\",\"context\":\"ExceptionsHandler\","
    r"\"message\":\"Cannot read properties of undefined (reading %d)\","
    r"\"stack\":[\"TypeError: x\\n    at a (/app/a.js:1:1)\"]}\n"
)
_DATABASE = (
    r"{\"level\":\"error\",\"context\":\"TypeOrmModule\","
    r"\"message\":\"Unable to connect to the database. Retrying (%d)...\"}\n"
)
_ACCESS = (
    r"{\"level\":\"log\",\"context\":\"HTTP\",\"message\":\"GET /api/v1/clips/clp_%d %d %dms - 512b - 10.42.1.%d\"}\n"
)


def awk_batch(lines: int) -> str:
    """A busybox awk command printing `lines` random ClipForge log lines."""
    return (
        f"awk -v seed=$RANDOM -v n={lines} 'BEGIN{{srand(seed); for(i=0;i<n;i++){{r=rand(); "
        f'if (r < 0.02) printf "{_ERROR}", int(rand()*50); '
        f'else if (r < 0.03) printf "{_DATABASE}", int(rand()*9); '
        f'else printf "{_ACCESS}", int(rand()*100000), (rand() < 0.02 ? 503 : 200), int(rand()*rand()*8000), '
        "int(rand()*250)}}'"
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def lines_read(port: int) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return int(sum(float(v) for v in re.findall(r"^logpipe_lines_read_total\{[^}]*\} (\S+)$", text, re.M)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=2000, help="lines per second the container writes")
    parser.add_argument("--port", type=int, default=0, help="for logpipe's /metrics (default: a free one)")
    args = parser.parse_args()
    port = args.port or free_port()  # two soaks at once must not read each other's counters
    batch = max(1, args.rate // 10)
    script = f"while true; do {awk_batch(batch)}; usleep 100000; done"
    client = docker.from_env()
    box = client.containers.run("busybox:local", ["sh", "-c", script], detach=True, network_mode="none")
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "logpipe.yml"
        config.write_text(f"state_dir: {scratch}/state\n")
        command = [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(config), "--no-view"]
        command += ["--format", "jsonl", "--metrics-address", f"127.0.0.1:{port}"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        try:
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(10)
                if process.poll() is not None:
                    raise SystemExit(f"logpipe exited with code {process.returncode} (is port {port} free?)")
                samples.append((time.monotonic() - started, rss_mib(process.pid)))
            total = lines_read(port)
        finally:
            process.terminate()
            process.wait(timeout=30)
            box.remove(force=True)
    settled = [(t, r) for t, r in samples if t >= 60] or samples
    (t0, r0), (t1, r1) = settled[0], settled[-1]
    per_hour = (r1 - r0) / max(t1 - t0, 1) * 3600
    print(
        f"soak: {args.minutes:g} min at ~{args.rate:,} lines/s: {total:,} lines read; RSS after 1 min {r0:.1f} MiB, "
        f"max {max(r for _, r in samples):.1f} MiB, last {r1:.1f} MiB ({per_hour:+.1f} MiB/hour after the first minute)"
    )


if __name__ == "__main__":
    main()
