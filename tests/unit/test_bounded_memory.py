"""Bounded memory for what is kept (issue 28): what comes from outside decides the size of nothing logpipe keeps.
Probe components (each a metric series), the readings kept for a restart, the report's lists."""

from __future__ import annotations

from pathlib import Path

import orjson
import urllib3
from prometheus_client import CollectorRegistry

from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, check
from logpipe.sources.probes.readinglog import ReadingLog
from logpipe.sources.probes.readings import Readings
from tests.bodyserver import body_server

SECOND = 1_000_000_000


def components_body(check_number: int, count: int = 1000) -> bytes:
    return orjson.dumps({f"part-{check_number}-{n}": {"status": "ok"} for n in range(count)} | {"status": "ok"})


def test_bounded_memory_probe_components_are_capped_and_their_series_are_the_last_bodys() -> None:
    """Before: 305k series and 528 MB in 30 s from a body naming new components at each check."""
    registry = CollectorRegistry()
    readings = Readings(registry)
    with body_server([components_body(n) for n in range(5)]) as url:
        config = ProbeConfig(name="api", url=url, interval="2s", timeout="2s")
        pool, memory = urllib3.PoolManager(), ProbeMemory()
        for _ in range(5):
            event = check(config, pool, memory)
            readings.note(event)
    fields = event.fields["probe"]
    assert (len(fields["components"]), fields["components_dropped"]) == (32, 968)
    series = [s for m in registry.collect() if m.name == "logpipe_probe_component_up" for s in m.samples]
    assert len(series) == 32
    assert {s.labels["component"] for s in series} == set(fields["components"])


def test_bounded_memory_readings_keep_what_the_rules_read_not_whole_bodies(tmp_path: Path) -> None:
    """Before: a day of 256 KiB bodies was 460 MB of readings, and 5.4 GB in memory when a restart read them."""
    big = orjson.dumps({"status": "ok", "database": {"status": "ok"}, "filler": "x" * 200_000})
    with body_server([big]) as url:
        event = check(
            ProbeConfig(name="api", url=url, interval="2s", timeout="2s"), urllib3.PoolManager(), ProbeMemory()
        )
    kept = ReadingLog(tmp_path / "readings.sqlite", {"probe": 3600 * SECOND})
    for n in range(50):
        kept.add(event._replace(time=event.time + n))
    (back, *_) = kept.recent(event.time + 60 * SECOND)
    kept.close()
    probe = back.fields["probe"]
    assert (probe["components"], probe["ok"], "body" in probe) == ({"database": "up"}, True, False)
    assert (tmp_path / "readings.sqlite").stat().st_size < 1_000_000  # 50 readings of a 200 KB body: 10 MB kept whole
