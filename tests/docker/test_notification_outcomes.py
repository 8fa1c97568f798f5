"""`logpipe_notifications_total` on a real follower's /metrics counts each notification by outcome: sent, silenced
(a silence held it back), folded (into its cause's incident), as the Grafana dashboard's "notifications by
outcome" panel reads it (`sum by (outcome, status)`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_follow import follow, logged
from tests.integration.receivers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

RULES = """
rules:
  - id: db-down
    title: DB down
    severity: critical
    runbook: restart it
    match: {message: {contains: database down}}
    inhibits: [{rule: db-error}]
    examples: {match: ['database down']}
  - id: db-error
    title: DB error
    severity: warning
    runbook: read it
    match: {message: {contains: db error}}
    examples: {match: ['db error']}
  - id: noisy
    title: Noisy
    severity: warning
    runbook: none
    match: {message: {contains: noisy}}
    examples: {match: ['noisy']}
"""


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """Counting notifications does not depend on how the log is read: once."""
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto")
    return "json-file"


def test_notifications_are_counted_by_outcome_on_metrics(tmp_path: Path, container: Any) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\nrules: [rules.yml]\n")
    silenced = subprocess.run(
        [sys.executable, "-m", "logpipe", "silence", "add", "--rule", "noisy", "--for", "1h", "--reason", "test",
         "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert silenced.returncode == 0, silenced.stderr
    port = free_port()
    box = container('echo "database down"; echo "db error"; echo "noisy thing"; sleep 3600')
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{port}", until_exit=False)

    def counted() -> dict[str, float]:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        samples = [line for line in text.splitlines() if line.startswith("logpipe_notifications_total{")]
        return {line.split("}")[0] + "}": float(line.split()[-1]) for line in samples}

    expected = {
        'logpipe_notifications_total{outcome="sent",rule="db-down",status="firing"}': 1.0,
        'logpipe_notifications_total{outcome="folded",rule="db-error",status="firing"}': 1.0,
        'logpipe_notifications_total{outcome="silenced",rule="noisy",status="firing"}': 1.0,
    }
    try:
        logged(process, "metrics and health on")
        wait_until(lambda: counted() == expected, 30, lambda: f"{counted()}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
