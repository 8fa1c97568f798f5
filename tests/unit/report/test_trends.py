"""The follower's trend recorder: per-minute increases of its metrics in trends.sqlite, across restarts and rule
reloads, pruned past `keep` (the real SQLite file and the pack's metrics, fed by real parsed lines)."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from logpipe.engine import Engine, load_rules
from logpipe.engine.metrics.model import MetricSet
from logpipe.event import Origin
from logpipe.pipeline import parse_lines
from logpipe.report.trends import (
    EVENTS,
    HEARTBEAT,
    MINUTE,
    TRENDS_FILE,
    TrendRecorder,
    TrendStore,
    increases,
    load_rows,
)
from logpipe.sources.file import read_lines
from logpipe.sources.probes.readinglog import READINGS_FILE, ReadingLog
from logpipe.sources.probes.stats import stats_event

T0 = 1_795_852_800_000_000_000  # 2026-11-30 08:00:00 UTC, a minute's start
OK = "[Nest] 1  - 11/30/2026, 8:00:01 AM     LOG [HTTP] GET /api/v1/clips/clp_8f2k/metadata 200 23ms - 120b\n"
FAILED = "[Nest] 1  - 11/30/2026, 8:00:02 AM     LOG [HTTP] POST /api/v1/clips/clp_9a/render 503 41ms - 88b\n"
REQUESTS_200 = 'clipforge_http_requests_total{method="GET",route="/api/v1/clips/:id/metadata",status_class="2xx"}'
REQUESTS_503 = 'clipforge_http_requests_total{method="POST",route="/api/v1/clips/:id/render",status_class="5xx"}'


def _engine() -> Engine:
    rules = load_rules(None)
    return Engine(rules, metrics=MetricSet(rules.metrics))


def _feed(engine: Engine, text: str) -> None:
    for event in parse_lines(read_lines(io.BytesIO(text.encode()), Origin("file", "api.log"))):
        engine.process(event)


def test_increases_leave_out_zeros_and_count_a_reset_series_from_zero() -> None:
    before = {"a": 5.0, "b": 2.0, "c": 7.0}
    assert increases(before, {"a": 8.0, "b": 2.0, "c": 3.0, "d": 1.0}) == {"a": 3.0, "c": 3.0, "d": 1.0}


def test_each_flush_adds_its_increase_to_the_minute_it_runs_in(tmp_path: Path) -> None:
    engine, clock = _engine(), [T0 + 5_000_000_000]
    events = [0.0]
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: engine.metrics, 2 * 3600 * 10**9,
                             lambda: events[0], clock=lambda: clock[0])  # fmt: skip
    _feed(engine, OK + FAILED)
    events[0] = 2.0
    recorder.flush()
    _feed(engine, OK)
    clock[0] += 20 * 10**9  # 08:00:25: the same minute
    recorder.flush()
    clock[0] += 60 * 10**9  # 08:01:25
    _feed(engine, OK * 3)
    recorder.flush()
    recorder.stop()
    rows = load_rows(tmp_path, T0, T0 + 2 * MINUTE)
    first, second = rows.counts[T0], rows.counts[T0 + MINUTE]
    assert (first[REQUESTS_200], first[REQUESTS_503], first[HEARTBEAT], first[EVENTS]) == (2.0, 1.0, 2.0, 2.0)
    assert second[REQUESTS_200] == 3.0
    assert REQUESTS_503 not in second
    assert stat.S_IMODE((tmp_path / TRENDS_FILE).stat().st_mode) == 0o600


def test_a_restarted_follower_adds_to_the_rows_and_its_warm_up_counts_nothing_twice(tmp_path: Path) -> None:
    clock = [T0]
    first = _engine()
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: first.metrics, 2 * 3600 * 10**9,
                             clock=lambda: clock[0])  # fmt: skip
    _feed(first, OK * 2)
    recorder.flush()
    recorder.store.close()

    second = _engine()  # a new process: its metrics start from zero
    current: list[MetricSet | None] = [second.metrics]
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: current[0], 2 * 3600 * 10**9,
                             clock=lambda: clock[0])  # fmt: skip
    current[0] = None  # its warm-up turns the metrics off a moment: the last set seen still counts
    _feed(second, OK)
    recorder.flush()
    recorder.store.close()
    assert load_rows(tmp_path, T0, T0).counts[T0][REQUESTS_200] == 3.0


def test_rows_older_than_keep_are_pruned(tmp_path: Path) -> None:
    engine, clock = _engine(), [T0]
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: engine.metrics, 3600 * 10**9,
                             clock=lambda: clock[0])  # fmt: skip
    _feed(engine, OK)
    recorder.flush()
    clock[0] += 3600 * 10**9 + MINUTE  # an hour and a minute later
    recorder.flush()
    recorder.store.close()
    assert sorted(load_rows(tmp_path, T0, clock[0]).counts) == [clock[0] // MINUTE * MINUTE]


def test_the_minutes_container_memory_comes_from_the_kept_stats_readings(tmp_path: Path) -> None:
    readings = ReadingLog(tmp_path / READINGS_FILE, {"stats": 3600 * 10**9})
    used = {"memory": {"used": 300 * 2**20, "limit": 2**30}}
    readings.add(stats_event("clipforge-api", "abc", T0 - 10**9, {"memory": {"used": 100 * 2**20}}))
    readings.add(stats_event("clipforge-api", "abc", T0 + 10**9, used))  # the newest in the minute wins
    engine = _engine()
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: engine.metrics, 3600 * 10**9,
                             readings=tmp_path / READINGS_FILE, clock=lambda: T0 + 2 * 10**9)  # fmt: skip
    recorder.flush()
    recorder.flush()  # nothing new: the minute keeps its reading
    recorder.stop()
    readings.close()
    assert load_rows(tmp_path, T0, T0 + MINUTE).memory == {"clipforge-api": [(T0, 300.0)]}


def test_a_stats_reading_without_memory_in_use_is_skipped_not_a_crash(tmp_path: Path) -> None:
    """A stopped container's `docker stats` reading has no `used`: the follower crashed at its stop flushing the
    trends (KeyError) and lost its last minute."""
    # kept for years: the log prunes by the wall clock, and these readings are of T0
    readings = ReadingLog(tmp_path / READINGS_FILE, {"stats": 10**18})
    readings.add(stats_event("clip-worker", "def", T0 + 2 * 10**8, {"memory": {}}))
    readings.add(stats_event("clip-renderer", "ghi", T0 + 3 * 10**8, {"memory": None}))
    readings.add(stats_event("clipforge-api", "abc", T0 + 10**9, {"memory": {"used": 100 * 2**20}}))
    engine = _engine()
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: engine.metrics, 3600 * 10**9,
                             readings=tmp_path / READINGS_FILE, clock=lambda: T0 + 2 * 10**9)  # fmt: skip
    recorder.flush()
    recorder.stop()
    readings.close()
    assert load_rows(tmp_path, T0, T0 + MINUTE).memory == {"clipforge-api": [(T0, 100.0)]}
