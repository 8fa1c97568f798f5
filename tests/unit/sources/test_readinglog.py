"""The readings kept across a restart (sources/probes/readinglog.py): each comes back as the event it was, oldest first,
for as long as the rules look back (probe events: the longest window; stats and disk: the log warm-up's reach),
and a write that fails (a real full disk) is counted and reported, never raised into the probe thread."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from logpipe.engine import load_rules
from logpipe.sources.probes.http import probe_event
from logpipe.sources.probes.readinglog import READINGS_FILE, ReadingLog, retention_for
from logpipe.sources.probes.stats import disk_event, stats_event
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[3]
HOUR = 3_600_000_000_000
NOW = time.time_ns()  # the log prunes on the wall clock as it writes


def probe_at(at: int, ok: bool = True, name: str = "api") -> object:
    fields = {"name": name, "url": "http://api/health", "ok": ok, "duration_ms": 3.0, "consecutive_failures": 0}
    fields.update({"status": 200} if ok else {"error": "timeout", "detail": "timed out"})
    return probe_event(at, fields)


def test_the_pack_keeps_probe_readings_a_day_and_resource_readings_an_hour() -> None:
    ruleset = load_rules([ROOT / "rules"])
    assert retention_for(ruleset) == {"probe": 24 * HOUR, "stats": HOUR, "disk": HOUR}


def test_readings_come_back_as_the_events_they_were_oldest_first(tmp_path: Path) -> None:
    log = ReadingLog(tmp_path / READINGS_FILE, {"probe": 24 * HOUR, "stats": HOUR, "disk": HOUR})
    stats = stats_event("clipforge-api", "0123456789abcdef", NOW - 2, {"container": "clipforge-api", "pids": 9})
    disk = disk_event(str(tmp_path), NOW - 1)
    failed = probe_at(NOW - 3, ok=False)
    for event in (stats, disk, failed):
        log.add(event)  # type: ignore[arg-type]
    log.close()
    again = ReadingLog(tmp_path / READINGS_FILE, {"probe": 24 * HOUR, "stats": HOUR, "disk": HOUR}).recent(NOW)
    assert again == [failed, stats, disk]


def test_each_logger_keeps_its_own_span(tmp_path: Path) -> None:
    log = ReadingLog(tmp_path / READINGS_FILE, {"probe": 24 * HOUR, "stats": HOUR, "disk": HOUR})
    kept_probe, old_probe = probe_at(NOW - 23 * HOUR), probe_at(NOW - 25 * HOUR)
    old_stats = stats_event("api", "abc", NOW - 2 * HOUR, {"container": "api"})
    kept_stats = stats_event("api", "abc", NOW - HOUR // 2, {"container": "api"})
    for event in (old_probe, kept_probe, old_stats, kept_stats):
        log.add(event)  # type: ignore[arg-type]
    assert log.recent(NOW) == [kept_probe, kept_stats]


def test_a_rule_set_without_windows_keeps_nothing(tmp_path: Path) -> None:
    log = ReadingLog(tmp_path / READINGS_FILE, {"probe": 0, "stats": 0, "disk": 0})
    log.add(probe_at(NOW))  # type: ignore[arg-type]
    assert log.recent(NOW) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, mounted for the test and unmounted after (needs root: CI runs as root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)  # lazy: a failed test may hold the file


@pytest.mark.integration
def test_a_full_disk_drops_readings_counted_and_reported_not_raised(small_disk: Path) -> None:
    problems: list[str | None] = []
    log = ReadingLog(small_disk / READINGS_FILE, {"probe": 24 * HOUR}, problems.append)
    padding = "x" * 4000
    for i in range(200):  # ~800 KiB of readings into 256 KiB
        fields = {"name": "api", "url": "http://api/health", "ok": True, "status": 200, "duration_ms": 1.0}
        log.add(probe_event(NOW + i, {**fields, "body": {"padding": padding}}))
    assert log.dropped > 0
    assert problems[0] is not None
    assert "is full" in problems[0]
    assert problems[-1] == f"{problems[0].rsplit(';', 1)[0]}; {log.dropped} readings not kept"
    kept = log.recent(NOW + 200)
    log.close()
    assert 0 < len(kept) == 200 - log.dropped
