"""Container figures computed as `docker stats` computes them, from Engine API readings taken on this daemon
(cgroup v1) and the cgroup v2 layout."""

from __future__ import annotations

import os
from pathlib import Path

from logpipe.sources.probes.stats import cpu_limit, cpu_percent, disk_event, io_figures, memory_figures


def test_memory_excludes_the_inactive_file_cache_on_cgroup_v1_and_v2() -> None:
    v1 = {"usage": 59179008, "limit": 67108864, "stats": {"total_inactive_file": 4194304, "cache": 58720256}}
    assert memory_figures(v1) == {"used": 54984704, "limit": 67108864, "percent": 81.93}
    v2 = {"usage": 10485760, "limit": 20971520, "stats": {"inactive_file": 2097152, "anon": 8388608}}
    assert memory_figures(v2) == {"used": 8388608, "limit": 20971520, "percent": 40.0}
    assert memory_figures({}) == {}


def test_cpu_percent_is_the_share_of_host_cpu_time_times_online_cpus() -> None:
    before = {"cpu_usage": {"total_usage": 1_000_000_000}, "system_cpu_usage": 100_000_000_000, "online_cpus": 2}
    # 0.5 s of CPU while the host's 2 CPUs spent 2 s: half a core, as docker stats says 50 %
    now = {"cpu_usage": {"total_usage": 1_500_000_000}, "system_cpu_usage": 102_000_000_000, "online_cpus": 2}
    assert cpu_percent(now, before) == 50.0
    assert cpu_percent(now, {}) is None
    assert cpu_percent(now, now) is None
    assert cpu_limit({"NanoCpus": 500_000_000}, 2) == 0.5
    assert cpu_limit({"CpuQuota": 150_000, "CpuPeriod": 100_000}, 2) == 1.5
    assert cpu_limit({}, 2) == 2.0


def test_network_and_block_io_are_summed() -> None:
    reading = {
        "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 10}, "eth1": {"rx_bytes": 5, "tx_bytes": 1}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "Read", "value": 4096},
                {"major": 8, "minor": 0, "op": "Write", "value": 8192},
                {"major": 8, "minor": 0, "op": "Total", "value": 12288},
            ]
        },
    }
    assert io_figures(reading) == {
        "net": {"rx_bytes": 105, "tx_bytes": 11},
        "block": {"read_bytes": 4096, "write_bytes": 8192},
    }


def test_disk_usage_as_df_shows_it_and_a_missing_path_is_an_event_saying_why(tmp_path: Path) -> None:
    event = disk_event(str(tmp_path), 1)
    fields = event.fields["disk"]
    info = os.statvfs(tmp_path)
    used = (info.f_blocks - info.f_bfree) * info.f_frsize
    assert fields["percent"] == round(used / (used + info.f_bavail * info.f_frsize) * 100, 2)
    assert (event.logger, event.level) == ("disk", "info")
    missing = disk_event(str(tmp_path / "gone"), 1)
    assert (missing.level, missing.fields["disk"]["error"]) == (
        "warning",
        "FileNotFoundError: No such file or directory",
    )
