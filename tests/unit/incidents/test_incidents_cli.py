"""`logpipe incidents` and `/incidents`: what a person or a script reads of the incidents in the state store."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from logpipe.cli import main
from logpipe.telemetry import Telemetry
from tests.conftest import EXAMPLES


def replayed_config(tmp_path: Path) -> Path:
    """A config with a state store, filled by a replay of the bundled example (no receiver: nothing is sent)."""
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\nchannels:\n  nowhere: {url: 'http://127.0.0.1:9/x', kind: webhook}\n")
    result = CliRunner().invoke(
        main,
        [
            "replay",
            "--config",
            str(config),
            "--format",
            "jsonl",
            "--wait",
            "0",
            str(EXAMPLES / "clipforge-api-json.log"),
        ],
    )
    assert result.exit_code == 3, result.output  # done; nothing delivered (the receiver is nowhere)
    return config


def test_incidents_lists_what_the_replay_opened_and_closed(tmp_path: Path) -> None:
    config = replayed_config(tmp_path)
    table = CliRunner().invoke(main, ["incidents", "--config", str(config)])
    assert table.exit_code == 0, table.output
    assert "postgres-connection-errors-burst" in table.output
    assert "symptoms folded in: 6 x postgres-connection-error, 1 x unhandled-exception" in table.output
    listed = CliRunner().invoke(main, ["incidents", "--config", str(config), "--json"])
    records = [json.loads(line) for line in listed.output.splitlines()]
    assert len(records) == 15
    burst = next(r for r in records if r["rule"] == "postgres-connection-errors-burst")
    assert (burst["total"], burst["last_kind"], burst["closed"] is not None) == (6, "resolved", True)


def test_incidents_without_a_state_store_says_so(tmp_path: Path) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: nowhere\n")
    result = CliRunner().invoke(main, ["incidents", "--config", str(config)])
    assert result.exit_code == 1
    assert "no state store at" in result.output
    assert "Traceback" not in result.output


def test_the_metrics_server_serves_the_incidents_as_json() -> None:
    telemetry = Telemetry()
    telemetry.incidents = lambda: [{"id": "abc", "rule": "api-down", "closed": None}]
    port = telemetry.serve("127.0.0.1", 0)
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents", timeout=5).read()
    finally:
        telemetry.close()
    assert json.loads(body) == [{"id": "abc", "rule": "api-down", "closed": None}]


def test_silence_add_creates_the_state_directory_private(tmp_path: Path) -> None:
    """The first command to touch the state directory may be `logpipe silence add`: 0700 as every other makes it
    (docs/guarantees.md's promise), not 0755."""
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\n")
    added = CliRunner().invoke(
        main,
        [
            "silence",
            "add",
            "--rule",
            "stripe-webhook-signature",
            "--for",
            "1h",
            "--reason",
            "deploy",
            "--config",
            str(config),
        ],
    )
    assert added.exit_code == 0, added.output
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
