"""Container memory and CPU, and disk usage, inside `logpipe follow` against the real daemon: a 64 MiB container
filling its memory past 80 % then 90 %, a CPU burner held to a fifth of a CPU, a 1 MiB tmpfs filled past 90 %. Each of
the pack's resource rules (windows shortened to seconds) stays quiet under normal load, fires under the load, and
resolves when it stops."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.docker.probes.conftest import Follower, short_rules
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SHORT = {"window": "3s", "evaluate_every": "1s", "keep_firing_for": "1s", "min_count": 2}
STEP = "while [ ! -f /go/{0} ]; do sleep 0.1; done"  # the container waits for the test's go file


QUIET = 8  # readings at 500 ms: past the rules' 3 s window and a second's evaluation


def go(directory: Path, step: str) -> None:
    (directory / step).write_text("")


def test_memory_past_80_then_90_percent_of_its_limit_fires_warning_then_critical_and_resolves(
    tmp_path: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    steps = tmp_path / "go"
    steps.mkdir()
    script = "; ".join(
        [
            STEP.format("fill1"),
            "dd if=/dev/zero of=/dev/shm/a bs=1M count=53",  # ~84 % of 64 MiB (tmpfs pages count as used memory)
            STEP.format("fill2"),
            "dd if=/dev/zero of=/dev/shm/b bs=1M count=6",  # ~93 %
            STEP.format("free"),
            "rm -f /dev/shm/a /dev/shm/b",
            "sleep 3600",
        ]
    )
    box = container(script, mem_limit="64m", volumes={str(steps): {"bind": "/go", "mode": "ro"}})
    rules = short_rules(tmp_path, "resources.yml", {"container-memory-high": SHORT})
    # a disk reading too, each round: what shows the readings going on once the container is gone
    config = f"state_dir: state\nresources: {{interval: 500ms, disk_paths: ['{tmp_path}']}}\n"
    logpipe = follower([box.name], config, [rules])
    assert logpipe.wait_for_gauge("logpipe_container_memory_limit_bytes", container=box.name) == 64 * 1024 * 1024
    logpipe.quiet_over("stats", QUIET)

    go(steps, "fill1")
    warning = logpipe.wait_for("container-memory-high", "firing", severity="warning")
    assert 80 < warning["value"] < 90
    assert warning["group"] == {"stats.container": box.name}
    go(steps, "fill2")
    critical = logpipe.wait_for("container-memory-high", "firing", severity="critical")
    assert critical["value"] > 90
    go(steps, "free")
    logpipe.wait_for("container-memory-high", "resolved")

    # the container goes away: its stats stop, without an error event or a word in logpipe's log
    box.remove(force=True)
    rounds = len(logpipe.events("disk"))
    wait_until(lambda: len(logpipe.events("disk")) >= rounds + 4, what="four rounds of readings after the removal")
    logpipe.stop()
    assert [e for e in logpipe.events("stats") if "error" in e["fields"]["stats"]] == []
    assert "Traceback" not in logpipe.log.read_text()
    assert [(a["rule"], a["status"], a["severity"]) for a in logpipe.alerts()] == [
        ("container-memory-high", "firing", "warning"),
        ("container-memory-high", "firing", "critical"),
        ("container-memory-high", "resolved", "critical"),
    ]


def test_a_cpu_burner_held_to_a_fifth_of_a_cpu_fires_cpu_high_and_resolves_when_it_stops(
    tmp_path: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    steps = tmp_path / "go"
    steps.mkdir()
    script = f"{STEP.format('burn')}; while [ ! -f /go/stop ]; do :; done; sleep 3600"
    # a fifth of a CPU: a share it gets even on a loaded machine, so its limit_percent reaches 100
    box = container(script, nano_cpus=200_000_000, volumes={str(steps): {"bind": "/go", "mode": "ro"}})
    rules = short_rules(tmp_path, "resources.yml", {"container-cpu-high": SHORT})
    logpipe = follower([box.name], "state_dir: state\nresources: {interval: 500ms, disk: false}\n", [rules])
    logpipe.wait_for_gauge("logpipe_container_cpu_percent", container=box.name)
    logpipe.quiet_over("stats", QUIET)

    go(steps, "burn")
    busy = logpipe.wait_for("container-cpu-high", "firing")
    assert busy["value"] > 90  # of its fifth of a CPU: docker stats shows about 20 %
    assert 10 < (logpipe.gauge("logpipe_container_cpu_percent", container=box.name) or 0) < 25
    go(steps, "stop")
    logpipe.wait_for("container-cpu-high", "resolved")
    logpipe.stop()
    assert [(a["rule"], a["status"]) for a in logpipe.alerts()] == [
        ("container-cpu-high", "firing"),
        ("container-cpu-high", "resolved"),
    ]


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted on the host (needs root, as CI runs)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_small_tmpfs_filled_past_90_percent_fires_disk_warning_then_critical_and_resolves(
    tmp_path: Path, small_tmpfs: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    steps = tmp_path / "go"
    steps.mkdir()
    script = "; ".join(
        [
            STEP.format("fill1"),
            "dd if=/dev/zero of=/data/a bs=1k count=850",  # 213 of 256 pages: 83 %
            STEP.format("fill2"),
            "dd if=/dev/zero of=/data/b bs=1k count=100",  # 93 %
            STEP.format("free"),
            "rm -f /data/a /data/b",
            "sleep 3600",
        ]
    )
    mounts = {str(steps): {"bind": "/go", "mode": "ro"}, str(small_tmpfs): {"bind": "/data", "mode": "rw"}}
    box = container(script, volumes=mounts)
    rules = short_rules(tmp_path, "resources.yml", {"disk-usage-high": {**SHORT, "min_count": 1}})
    config = f"state_dir: state\nresources: {{interval: 500ms, containers: false, disk_paths: ['{small_tmpfs}']}}\n"
    logpipe = follower([box.name], config, [rules])
    assert logpipe.wait_for_gauge("logpipe_disk_used_ratio", path=str(small_tmpfs)) == 0.0
    logpipe.quiet_over("disk", QUIET)

    go(steps, "fill1")
    warning = logpipe.wait_for("disk-usage-high", "firing", severity="warning")
    assert (warning["group"], 80 < warning["value"] < 90) == ({"disk.path": str(small_tmpfs)}, True)
    go(steps, "fill2")
    assert logpipe.wait_for("disk-usage-high", "firing", severity="critical")["value"] > 90
    go(steps, "free")
    logpipe.wait_for("disk-usage-high", "resolved")
    logpipe.stop()
