"""What keeping the probe readings across restarts costs (logpipe/sources/probes/readinglog.py): the time of one write,
the time to read a day back at start, and the file size, for 4 probes checked every 30 s for 24 hours with
ClipForge's full health body.

    .venv/bin/python bench/readinglog_size.py
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from logpipe.sources.probes.http import probe_event
from logpipe.sources.probes.readinglog import READINGS_FILE, ReadingLog

HOUR = 3_600_000_000_000
PROBES, INTERVAL = 4, 30_000_000_000


def main() -> None:
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}")
    body = {"status": "ok", "timestamp": "2026-11-30T10:00:00.000Z", "uptime": 3600}
    body.update({part: {"status": "ok"} for part in ("database", "redis", "storage")})
    fields = {
        "url": "http://clipforge-api:3000/health", "method": "GET", "status": 200, "duration_ms": 3.1, "ok": True,
        "consecutive_failures": 0, "body": body, "components": {"database": "up", "redis": "up", "storage": "up"},
        "components_down": 0, "health": "up", "uptime": 3600, "restarted": False,
    }  # fmt: skip
    count = PROBES * 24 * HOUR // INTERVAL
    start_ns = time.time_ns() - 24 * HOUR + INTERVAL
    events = [
        probe_event(start_ns + i * INTERVAL // PROBES, {**fields, "name": f"api{i % PROBES}"}) for i in range(count)
    ]
    with tempfile.TemporaryDirectory() as directory:
        log = ReadingLog(Path(directory) / READINGS_FILE, {"probe": 24 * HOUR, "stats": HOUR, "disk": HOUR})
        started = time.perf_counter()
        for event in events:
            log.add(event)
        write = (time.perf_counter() - started) / count
        started = time.perf_counter()
        back = log.recent(time.time_ns())
        read = time.perf_counter() - started
        size = sum(path.stat().st_size for path in Path(directory).iterdir())
        log.close()
    print(f"{count} readings ({PROBES} probes, 30 s, 24 h): {write * 1e6:.0f} us per write")
    print(f"read back at start: {len(back)} readings in {read * 1000:.0f} ms; files {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
