"""Redaction at every exit (issue 28, finding 6): a real follower's incident whose log line carries a password, a
DSN and a Stripe key, as `/incidents` on the metrics port serves it, as `logpipe incidents --json` prints it, and
as the state store keeps it. Before, /incidents served the records unredacted (and the Compose file `init` writes
binds that port on 0.0.0.0)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.docker.test_follow import follow
from tests.integration.receivers import free_port
from tests.waiting import wait_until

SECRETS = ("hunter2", "s3cretpw", "sk_live_51Habcdefghijklmnopqrstu")
LINE = "payment failed: password=hunter2 dsn=postgres://app:s3cretpw@db:5432/app key=sk_live_51Habcdefghijklmnopqrstu"
RULES = """
rules:
  - id: payment-failed
    title: Payment failed
    runbook: Look at the provider's dashboard.
    severity: critical
    match: {message: {contains: "payment failed"}}
    examples: {match: ['payment failed: card_declined']}
"""


def test_redaction_at_every_exit_incidents_served_printed_and_stored_hold_no_secret(
    tmp_path: Path, container: Any
) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules.yml]\n")
    box = container(f"echo '{LINE}'; sleep 600")
    port = free_port()
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{port}", until_exit=False)
    try:

        def served() -> str:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents", timeout=2).read().decode()
            except OSError:
                return ""
            return text if "payment-failed" in text else ""

        incidents = wait_until(served, timeout=60, what="the incident on /incidents")
        printed = subprocess.run(
            [sys.executable, "-m", "logpipe", "incidents", "--json", "--config", str(tmp_path / "logpipe.yml")],
            capture_output=True, text=True, cwd=tmp_path, timeout=60, check=True,
        ).stdout  # fmt: skip
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    with sqlite3.connect(tmp_path / "state" / "state.sqlite") as database:
        stored = " ".join(row[0].decode() for row in database.execute("SELECT record FROM incidents"))
    assert all("payment failed" in text for text in (incidents, printed, stored))  # each holds the incident
    for secret in SECRETS:
        assert secret not in incidents, f"/incidents serves {secret}"
        assert secret not in printed, f"logpipe incidents --json prints {secret}"
        assert secret not in stored, f"the state store keeps {secret}"
