"""What a user with Alertmanager sees after adding the README's three lines to logpipe.yml: the bundled outage
(examples/clipforge-api-json.log, its times moved to end now) waiting in a container's log, followed by a real
`logpipe follow` with the default pack, its incidents posted to a real Alertmanager (Debian's
prometheus-alertmanager, clustering off) whose webhook receiver points at a test server. The Postgres outage is one
alert and one group notification (its symptoms folded in by logpipe), a silence made in Alertmanager holds the
Redis outage, and Postgres coming back (2 minutes without an error, on the wall clock) ends the alert."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.integration.alertmanager import Alertmanager
from tests.integration.receivers import HttpReceiver
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

OUTAGE = ROOT / "examples" / "clipforge-api-json.log"
CUT = "2026-11-27T09:04:20"  # after the Redis outage fired, before Postgres came back (09:05:18)
README_URL = "http://alertmanager:9093"


@pytest.fixture(autouse=True)
def read_path() -> str:
    """Once, reading the json-file log (the read paths are covered by test_follow.py); overrides conftest's."""
    return "json-file"


def readme_lines() -> str:
    """The README's logpipe.yml block for Alertmanager, as a user copies it."""
    blocks: list[str] = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    (block,) = [block for block in blocks if "kind: alertmanager" in block]
    assert len(block.strip().splitlines()) == 3, block
    return block


def write_outage(log_path: Path, until: str) -> None:
    """The bundled outage's json-file records up to `until`, their times moved so that the last one is now."""
    records = [json.loads(line) for line in OUTAGE.read_text().splitlines()]
    records = [record for record in records if record["time"] < until]
    last = _ns(records[-1]["time"])
    shift = time.time_ns() - last
    with log_path.open("a") as log:
        for record in records:
            at = _ns(record["time"]) + shift
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at // 10**9)) + f".{at % 10**9:09d}Z"
            log.write(json.dumps({**record, "time": stamp}) + "\n")


def _ns(stamp: str) -> int:
    whole = datetime.fromisoformat(stamp[:19] + "+00:00")
    return int(whole.timestamp()) * 10**9 + int(stamp[20:29])


def notifications_about(http_receiver: HttpReceiver, alertname: str) -> list[tuple[str, list[str]]]:
    """(status, alertnames) of each group notification Alertmanager sent that holds `alertname`."""
    told = []
    for request in http_receiver.requests:
        body = request.json()
        names = [alert["labels"]["alertname"] for alert in body["alerts"]]
        if alertname in names:
            told.append((body["status"], names))
    return told


def test_the_readme_lines_put_the_outage_into_alertmanager_grouped_silenced_and_resolved(
    tmp_path: Path, container: Any, docker_client: Any, alertmanager: Alertmanager, http_receiver: HttpReceiver
) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text(readme_lines().replace(README_URL, alertmanager.url))
    silence = alertmanager.silence({"alertname": "redis-connection-errors-burst"}, "Redis maintenance")
    box = container("sleep 600")
    write_outage(Path(docker_client.api.inspect_container(box.id)["LogPath"]), CUT)
    log = tmp_path / "follow.stderr"
    process = subprocess.Popen(
        [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(config), "--since", "beginning",
         "--format", "jsonl"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True,
        env={**os.environ, "LOGPIPE_STATE_DIR": str(tmp_path / "state")},
    )  # fmt: skip

    def alive() -> str:
        return f"logpipe: {log.read_text()[-1500:]}\nAlertmanager: {alertmanager.log()[-1000:]}"

    try:
        postgres = wait_until(lambda: alertmanager.alert("postgres-connection-errors-burst"), 60, alive)
        assert postgres["labels"] == {
            "alertname": "postgres-connection-errors-burst",
            "severity": "critical",
            "container": box.name,
        }
        assert postgres["status"]["state"] == "active"
        annotations = postgres["annotations"]
        assert annotations["title"] == "Repeated Postgres connection errors (database unreachable)"
        assert re.fullmatch(
            r"Repeated Postgres connection errors \(database unreachable\): \d+ matches.*", annotations["summary"]
        )
        assert annotations["runbook"]
        assert re.fullmatch(r"[0-9a-f]{32}", annotations["incident"])

        redis = wait_until(lambda: alertmanager.alert("redis-connection-errors-burst"), 60, alive)
        assert redis["status"] == {"inhibitedBy": [], "silencedBy": [silence], "state": "suppressed"}

        # Postgres comes back: 2 minutes after its last error (09:03:18 in the log), about a minute from now
        wait_until(lambda: ("resolved", ["postgres-connection-errors-burst"])
                   in notifications_about(http_receiver, "postgres-connection-errors-burst"), 150, alive)  # fmt: skip
        assert alertmanager.alert("postgres-connection-errors-burst") is None  # ended: no longer listed
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert notifications_about(http_receiver, "postgres-connection-errors-burst") == [
        ("firing", ["postgres-connection-errors-burst"]),  # one page for the outage, its symptoms folded in
        ("resolved", ["postgres-connection-errors-burst"]),
    ]
    assert notifications_about(http_receiver, "redis-connection-errors-burst") == []  # held by the silence
    sent_to_alertmanager = {name for request in http_receiver.requests for name in _names(request.json())}
    assert sent_to_alertmanager.isdisjoint(
        {"postgres-connection-error", "unhandled-exception", "redis-connection-error"}
    )


def _names(body: dict[str, Any]) -> list[str]:
    return [alert["labels"]["alertname"] for alert in body["alerts"]]
