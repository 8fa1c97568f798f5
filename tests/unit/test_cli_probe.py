"""`logpipe probe URL`: one check printed as the event follow would match; exit code 0 up, 1 down, 2 misuse."""

from __future__ import annotations

import re
import subprocess
import sys

import orjson
from click.testing import CliRunner

from logpipe.cli import main
from tests.healthserver import HealthState, health_server
from tests.terminal import on_a_terminal


def test_probe_prints_the_event_and_exits_0_when_up() -> None:
    with health_server(HealthState()) as base:
        result = CliRunner().invoke(main, ["probe", f"{base}/health", "--body", "status=ok", "--body", "uptime=3600"])
    assert result.exit_code == 0, result.output
    event = orjson.loads(result.output)
    assert (event["logger"], event["fields"]["probe"]["ok"], event["fields"]["probe"]["status"]) == ("probe", True, 200)
    assert event["fields"]["probe"]["components"] == {"database": "up", "redis": "up", "storage": "up"}


def test_probe_exits_1_when_the_check_fails_and_says_why() -> None:
    with health_server(HealthState(database_up=False)) as base:
        result = CliRunner().invoke(main, ["probe", f"{base}/health/db", "--expect", "200"])
    assert result.exit_code == 1
    probe = orjson.loads(result.output)["fields"]["probe"]
    assert (probe["error"], probe["status"], probe["components"]) == ("status", 503, {"database": "down"})


def test_probe_misuse_is_a_usage_error_naming_the_option() -> None:
    result = CliRunner().invoke(main, ["probe", "http://x/health", "--timeout", "5"])
    assert result.exit_code == 2
    assert "Invalid value for --timeout: Value error, expected a duration like '30s' or '5m'" in result.output
    result = CliRunner().invoke(main, ["probe", "ftp://x/health"])
    assert (result.exit_code, "Invalid value for URL" in result.output) == (2, True)


def test_probe_as_a_real_process_reports_a_refused_connection() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "logpipe", "probe", "http://127.0.0.1:9/health", "--timeout", "2s"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    probe = orjson.loads(done.stdout)["fields"]["probe"]
    assert (probe["ok"], probe["error"]) == (False, "refused")


def test_probe_exits_1_when_the_body_reports_a_component_down_though_the_status_is_200() -> None:
    """ClipForge's /health answers 200 with `database.status: error`: the pack's database-down-probe rule calls that
    down, and so does the exit code (no --body needed)."""
    with health_server(HealthState(database_up=False)) as base:
        result = CliRunner().invoke(main, ["probe", f"{base}/health"])
    probe = orjson.loads(result.output)["fields"]["probe"]
    assert (probe["status"], probe["components"]["database"]) == (200, "down")
    assert result.exit_code == 1


def test_probe_on_a_terminal_prints_a_table_of_the_components() -> None:
    with health_server(HealthState(database_up=False)) as base:
        code, screen = on_a_terminal([sys.executable, "-m", "logpipe", "probe", f"{base}/health", "--name", "api"])
    assert code == 1, screen
    assert "probe api: DOWN" in screen
    assert re.search(r"database\s+│?\s*down", screen), screen
    assert re.search(r"redis\s+│?\s*up", screen), screen
    assert "HTTP 200" in screen
    assert not screen.lstrip().startswith("{")  # a table, not the raw event


def test_a_probe_that_waits_more_than_two_seconds_says_what_for() -> None:
    """An endpoint that takes 3 s to answer: after 2 s the command says on stderr what it is waiting for."""
    with health_server(HealthState(delay=3.0)) as base:
        done = subprocess.run(
            [sys.executable, "-m", "logpipe", "probe", f"{base}/health", "--timeout", "10s"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"logpipe: waiting for {base}/health to answer (up to 10s)" in done.stderr
    assert orjson.loads(done.stdout)["fields"]["probe"]["ok"] is True
