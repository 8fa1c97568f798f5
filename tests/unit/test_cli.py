from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logpipe.cli import main
from tests.conftest import EXAMPLES

NEST_ERROR_WITH_STACK = (
    "\x1b[31m[Nest] 1  - \x1b[39m11/27/2026, 9:01:10\u202fAM \x1b[31m  ERROR\x1b[39m \x1b[33m[ExceptionsHandler] "
    "\x1b[39m\x1b[31mconnect ECONNREFUSED 172.18.0.3:5432\x1b[39m\n"
    "Error: connect ECONNREFUSED 172.18.0.3:5432\n"
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)\n"
)


def test_parse_nest_error_with_stack_from_stdin_is_one_event() -> None:
    result = CliRunner().invoke(main, ["parse", "-"], input=NEST_ERROR_WITH_STACK)
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    event = orjson.loads(line)
    assert (event["level"], event["logger"], event["message"]) == (
        "error",
        "ExceptionsHandler",
        "connect ECONNREFUSED 172.18.0.3:5432",
    )
    assert event["fields"]["stack"] == (
        "Error: connect ECONNREFUSED 172.18.0.3:5432\n"
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)"
    )


def test_parse_redacts_unless_asked_not_to() -> None:
    line = '{"level":"info","msg":"login","password":"hunter2"}\n'
    assert "hunter2" not in CliRunner().invoke(main, ["parse"], input=line).output
    assert "hunter2" in CliRunner().invoke(main, ["parse", "--no-redact"], input=line).output


def test_table_format_is_aligned_and_human() -> None:
    result = CliRunner().invoke(main, ["parse", "--format", "table"], input=NEST_ERROR_WITH_STACK)
    first = result.output.splitlines()[0]
    assert first.startswith("09:01:10.000 ERROR    ExceptionsHandler")
    assert "connect ECONNREFUSED" in first


def test_missing_file_is_a_usage_error_without_traceback() -> None:
    result = CliRunner().invoke(main, ["parse", "/nonexistent/app.log"])
    assert result.exit_code == 2
    assert "No such file or directory" in result.output
    assert "Traceback" not in result.output


def test_real_subprocess_parses_a_bundled_example() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "logpipe", "parse", str(EXAMPLES / "clipforge-api-json.log")],
        capture_output=True,
        check=True,
        timeout=60,
    )
    events = [orjson.loads(line) for line in completed.stdout.splitlines()]
    in_process = CliRunner().invoke(main, ["parse", str(EXAMPLES / "clipforge-api-json.log")]).output.splitlines()
    assert len(events) == len(in_process) > 300
    assert events == [orjson.loads(line) for line in in_process]
    assert completed.stderr == b""


def test_alert_ids_do_not_depend_on_how_the_path_is_spelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "app.log"
    log.write_bytes((EXAMPLES / "clipforge-api-text.log").read_bytes())
    monkeypatch.chdir(tmp_path)

    def ids(*arguments: str, stdin: bytes | None = None) -> list[str]:
        result = CliRunner().invoke(main, ["replay", "--format", "jsonl", *arguments], input=stdin)
        assert result.exit_code == 0, result.output
        return [orjson.loads(line)["id"] for line in result.stdout.splitlines() if line.startswith("{")]

    expected = ids("app.log")
    assert expected
    assert ids("./app.log") == expected
    assert ids(str(log)) == expected
    assert ids("--source-name", str(log), "-", stdin=log.read_bytes()) == expected


def test_replay_events_out_holds_what_parse_prints(tmp_path: Path) -> None:
    """`replay --events-out` writes every parsed event as `logpipe parse` prints it (redacted), alerts unchanged."""
    example = EXAMPLES / "clipforge-api-json.log"
    events = tmp_path / "events.jsonl"
    replayed = CliRunner().invoke(main, ["replay", "--format", "jsonl", "--events-out", str(events), str(example)])
    plain = CliRunner().invoke(main, ["replay", "--format", "jsonl", str(example)])
    parsed = CliRunner().invoke(main, ["parse", "--format", "jsonl", str(example)])
    assert replayed.exit_code == 0, replayed.output
    assert events.read_text() == parsed.stdout
    assert replayed.stdout == plain.stdout
    assert events.stat().st_mode & 0o777 == 0o600
