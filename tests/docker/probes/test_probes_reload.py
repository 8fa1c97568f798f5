"""`logpipe reload` (SIGHUP) re-reads the probes of a running `logpipe follow`: a changed probe is checked at its
new URL, a new one starts, a removed one stops (its gauges leave /metrics), an unchanged one keeps running, and a
probe host that is found nowhere refuses the reload with file:line while the running probes go on."""

from __future__ import annotations

import functools
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.probes.conftest import Follower, short_rules
from tests.healthserver import HealthState, health_server
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

RULES = {"api-health-probe-failing": {"evaluate_every": "1s", "keep_firing_for": "1s", "window": "3s"}}


def closed_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])  # free once closed: connections to it are refused


def reload(tmp_path: Path, logpipe: Follower, probes: str, outcome: str) -> dict[str, Any]:
    """Write the config with these probes, run `logpipe reload`, and wait for the follower to log `outcome`
    ("probes reloaded" or "reload refused") once more; that log record."""
    before = logpipe.log.read_text().count(outcome)
    (tmp_path / "logpipe.yml").write_text(f"state_dir: state\nresources: {{containers: false, disk: false}}\n{probes}")
    done = subprocess.run(
        [sys.executable, "-m", "logpipe", "reload", "--config", str(tmp_path / "logpipe.yml")],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == (1 if outcome == "reload refused" else 0), done.stderr  # the follower's answer
    wait_until(lambda: logpipe.log.read_text().count(outcome) > before, what=lambda: logpipe.log.read_text()[-3000:])
    records = [json.loads(line) for line in logpipe.log.read_text().splitlines() if outcome in line]
    return records[-1]  # type: ignore[no-any-return]


def hits_while(state: HealthState, path: str, checks: Callable[[], int], more: int) -> int:
    """How many requests `path` got while a running probe made `more` checks (`checks` counts them): a stopped
    probe's path gets none, measured against a live probe's own pace rather than the clock."""
    before, start = state.hits.get(path, 0), checks()
    wait_until(lambda: checks() >= start + more, what=f"{more} more checks of the running probe")
    return state.hits.get(path, 0) - before


def test_reload_restarts_changed_probes_starts_new_ones_and_stops_removed_ones(
    tmp_path: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    box = container("sleep 3600")
    state = HealthState()
    refused = f"http://127.0.0.1:{closed_port()}/health"
    with health_server(state) as base:
        api = f"  - {{name: api, url: '{base}/health', interval: 300ms, timeout: 250ms}}\n"
        config = f"state_dir: state\nresources: {{containers: false, disk: false}}\nprobes:\n{api}"
        logpipe = follower([box.name], config, [short_rules(tmp_path, "probes.yml", RULES)])
        wait_until(lambda: logpipe.gauge("logpipe_probe_up", probe="api") == 1.0, what=logpipe.log.read_text)

        # api moves to a port nobody listens on; db is new
        api = f"  - {{name: api, url: '{refused}', interval: 300ms, timeout: 250ms}}\n"
        db = f"  - {{name: db, url: '{base}/health/db', interval: 300ms, timeout: 250ms}}\n"
        record = reload(tmp_path, logpipe, f"probes:\n{api}{db}", "probes reloaded")
        assert (record["kept"], record["started"], record["stopped"]) == ([], ["api", "db"], ["api"])
        wait_until(lambda: logpipe.gauge("logpipe_probe_up", probe="db") == 1.0, what=logpipe.log.read_text)
        failing = logpipe.wait_for("api-health-probe-failing", "firing", **{"probe.name": "api"})
        assert (failing["event"]["fields"]["probe"]["error"], failing["event"]["fields"]["probe"]["url"]) == (
            "refused",
            refused,
        )
        assert logpipe.gauge("logpipe_probe_up", probe="api") == 0.0
        db_checks = functools.partial(state.hits.get, "/health/db", 0)
        assert hits_while(state, "/health", db_checks, 3) == 0  # the old api probe stopped

        # a host found nowhere: the whole reload is refused, with file:line; the running probes go on
        lost = "  - {name: lost, url: 'http://lp-no-such-container:3000/health', interval: 5s}\n"
        record = reload(tmp_path, logpipe, f"probes:\n{api}{db}{lost}", "reload refused")
        assert re.search(r"logpipe\.yml:6: probes\[2\]\.url: host 'lp-no-such-container' is neither", record["problem"])
        checked = db_checks()
        wait_until(lambda: db_checks() > checked, what="the running db probe checking on after the refused reload")

        # db is removed; api, unchanged, keeps running (and keeps failing)
        record = reload(tmp_path, logpipe, f"probes:\n{api}", "probes reloaded")
        assert (record["kept"], record["started"], record["stopped"]) == (["api"], [], ["db"])

        def api_checks() -> int:
            return sum(e["fields"]["probe"]["url"] == refused for e in logpipe.events("probe"))

        hits_while(state, "/health/db", api_checks, 1)  # a check in flight at the reload may still land
        assert hits_while(state, "/health/db", api_checks, 3) == 0
        assert logpipe.gauge("logpipe_probe_up", probe="db") is None
        assert logpipe.gauge("logpipe_probe_up", probe="api") == 0.0
        logpipe.stop()

    probes = [event["fields"]["probe"] for event in logpipe.events("probe")]
    names_and_urls = {(probe["name"], probe["url"]) for probe in probes}
    assert names_and_urls == {("api", f"{base}/health"), ("api", refused), ("db", f"{base}/health/db")}
    # the api check that counted failures in a row kept counting across the last reload (it was unchanged)
    last_api = [probe["consecutive_failures"] for probe in probes if probe["url"] == refused]
    assert last_api == list(range(1, len(last_api) + 1))
