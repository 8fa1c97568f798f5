"""HTTP probes inside `logpipe follow`, against a real HTTP server serving ClipForge's health JSON (/health) and
NestJS Terminus's (/health/db): the database goes down, then the API hangs, then answers slowly, then recovers
(restarted). Each phase opens and resolves the alerts of the pack's probe rules (windows shortened), and the log
of a container followed meanwhile is read on while the checks hang and crawl, every line once (how far behind it
falls is a figure: bench/probe_lag.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.probes.conftest import Follower, short_rules
from tests.healthserver import HealthState, health_server
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SHORT = {"evaluate_every": "1s", "keep_firing_for": "1s"}
PROBE_RULES = {
    "api-health-probe-failing": {**SHORT, "window": "4s"},
    "database-down-probe": {**SHORT, "window": "3s"},
    "redis-down-probe": {**SHORT, "window": "3s"},
    "storage-down-probe": {**SHORT, "window": "3s"},
    "health-check-slow": {**SHORT, "window": "4s"},
    "api-process-restarted": {},
}


def config(base: str) -> str:
    return f"""
state_dir: state
resources: {{containers: false, disk: false}}
probes:
  - {{name: api, url: "{base}/health", interval: 1500ms, timeout: 1400ms}}
  - {{name: db, url: "{base}/health/db", interval: 1500ms, timeout: 1400ms, expect_status: [200, 503]}}
"""


def followed_lines(logpipe: Follower) -> int:
    """The followed container's lines handled so far (in --events-out)."""
    text = logpipe.events_path.read_text() if logpipe.events_path.exists() else ""
    return sum(json.loads(line)["origin"]["source"] == "docker" for line in text.splitlines())


def reads_on(logpipe: Follower, lines: int = 100) -> None:
    """The followed container's lines keep being handled (`lines` more), whatever the probes are going through."""
    before = followed_lines(logpipe)
    wait_until(lambda: followed_lines(logpipe) >= before + lines, what=f"{lines} more lines handled")


def test_probe_incidents_open_and_resolve_while_log_following_keeps_its_pace(
    tmp_path: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    box = container('i=0; while true; do echo "line $i"; i=$((i+1)); usleep 20000; done')  # ~50 lines/s
    state = HealthState()
    with health_server(state) as base:
        logpipe = follower([box.name], config(base), [short_rules(tmp_path, "probes.yml", PROBE_RULES)])

        # healthy: the probes pass and nothing fires
        wait_until(lambda: logpipe.gauge("logpipe_probe_up", probe="db") == 1.0, what=logpipe.log.read_text)
        logpipe.quiet_over("probe", 6)  # three checks each, past the rules' windows
        assert logpipe.gauge("logpipe_probe_component_up", probe="api", component="database") == 1.0

        # the database goes down: both bodies say so (ClipForge: status error; Terminus: 503, details down)
        state.database_up = False
        down = logpipe.wait_for("database-down-probe", "firing")
        assert down["severity"] == "critical"
        state.database_up = True
        logpipe.wait_for("database-down-probe", "resolved")

        # the API hangs past the probes' timeout: three failures in a row
        state.delay = 3.0
        failing = logpipe.wait_for("api-health-probe-failing", "firing", **{"probe.name": "api"})
        assert failing["value"] >= 3
        assert failing["event"]["fields"]["probe"]["error"] == "timeout"
        assert logpipe.gauge("logpipe_probe_up", probe="api") == 0.0
        reads_on(logpipe)  # while the checks hang

        # it answers again, slowly: the failure resolves, the slowness fires
        state.delay = 1.15
        logpipe.wait_for("api-health-probe-failing", "resolved", **{"probe.name": "api"})
        slow = logpipe.wait_for("health-check-slow", "firing", **{"probe.name": "api"})
        assert slow["value"] > 1000
        reads_on(logpipe)  # while the checks crawl

        # it recovers, restarted (its uptime went back to a few seconds)
        state.delay, state.uptime = 0.0, 5.0
        logpipe.wait_for("health-check-slow", "resolved", **{"probe.name": "api"})
        logpipe.wait_for("api-process-restarted", "firing", **{"probe.name": "api"})
        logpipe.stop()

    fired = {(a["rule"], a["status"]) for a in logpipe.alerts()}
    assert ("redis-down-probe", "firing") not in fired
    assert ("storage-down-probe", "firing") not in fired
    # log following went on while the probes hung and crawled: no line lost or repeated
    events = [json.loads(line) for line in logpipe.events_path.read_text().splitlines()]
    numbers = [int(e["message"].split()[1]) for e in events if e["origin"]["source"] == "docker"]
    assert len(numbers) > 500
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert {e["logger"] for e in events if e["origin"]["source"] == "probe"} == {"probe"}


def test_a_probe_host_that_is_no_container_is_refused_at_start_with_file_and_line(
    tmp_path: Path, docker_client: Any, follower: Callable[..., Follower]
) -> None:
    import subprocess
    import sys

    (tmp_path / "logpipe.yml").write_text(
        "state_dir: state\nprobes:\n  - name: api\n    url: http://lp-no-such-container:3000/health\n    interval: 5s\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "logpipe", "follow", "x", "--config", str(tmp_path / "logpipe.yml"), "--no-view"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"Error: {tmp_path / 'logpipe.yml'}:4: probes[0].url: host 'lp-no-such-container' is neither a name this "
        "host resolves nor a container Docker knows"
    )
