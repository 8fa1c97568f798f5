"""`logpipe replay` and `logpipe rules ...` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import orjson
import yaml
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import default_rules_dir
from logpipe.engine.rulefiles import rule_files
from tests.conftest import EXAMPLES


def test_replay_jsonl_has_what_a_script_needs() -> None:
    result = CliRunner().invoke(main, ["replay", "--format", "jsonl", str(EXAMPLES / "clipforge-api-json.log")])
    assert result.exit_code == 0, result.output
    alerts = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(alerts) == 24
    first = alerts[0]
    keys = {"id", "incident", "rule", "severity", "title", "time", "group", "count", "total", "message", "event"}
    assert keys | {"status", "summary", "symptoms", "first_seen", "duration_seconds"} <= set(first)
    assert (first["rule"], first["status"], first["time"]) == (
        "stripe-webhook-signature",
        "firing",
        "2026-11-27T09:01:10.100000042Z",
    )
    assert first["event"]["logger"] == "StripeWebhookController"
    assert "15 incidents, 24 notifications" in result.stderr
    assert "postgres-connection-errors-burst" in result.stderr  # the summary table of incidents


def test_replay_redacts_the_triggering_event() -> None:
    line = (
        '{"level":"error","time":1795770000000,"msg":"Webhook error: No signatures found matching the expected '
        'signature for payload","password":"hunter2","user":"bob@example.com"}\n'
    )
    result = CliRunner().invoke(main, ["replay", "--format", "jsonl", "-"], input=line)
    alert, resolved = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert (alert["status"], resolved["status"]) == ("firing", "resolved")  # end of input closes the incident
    assert alert["event"]["fields"] == {"password": "[REDACTED]", "user": "b***@example.com"}
    assert "hunter2" not in result.stdout


def test_rules_test_passes_on_the_pack_and_fails_on_a_broken_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "test"])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].endswith(" passed, 0 failed")
    (tmp_path / "r.yml").write_text(
        "rules:\n  - id: x\n    title: x\n    runbook: x\n    match: {message: {contains: deadlock}}\n"
        "    examples: {match: ['lock timeout'], no_match: ['deadlock detected']}\n"
    )
    result = CliRunner().invoke(main, ["rules", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert "match example 1 did not match" in result.output
    assert "no_match example 1 matched" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"


def test_explain_a_line_shows_conditions_and_captures() -> None:
    line = (
        "[Nest] 1  - 11/27/2026, 9:08:02 AM     LOG [StripeWebhookController] Payment accepted: "
        "checkout.session.completed cs_1 for user usr_lost (credits=250)"
    )
    result = CliRunner().invoke(main, ["rules", "explain", line, "--rule", "payment-without-credits"])
    assert result.exit_code == 0, result.output
    assert "MATCH payment-without-credits (sequence, critical)" in result.output
    assert "captured: {'user': 'usr_lost'}" in result.output
    assert "then: does not hold" in result.output


def test_explain_a_file_shows_window_state_at_decision_time() -> None:
    result = CliRunner().invoke(
        main, ["rules", "explain", "--file", str(EXAMPLES / "clipforge-api-text.log"), "--rule", "http-error-rate"]
    )
    assert result.exit_code == 0, result.output
    assert "2026-11-27T09:06:10.000000000Z http-error-rate: firing (critical): 13.3% of 150 events" in result.output
    assert "window state: {'window': '5m'" in result.output
    log = (EXAMPLES / "clipforge-api-text.log").read_text()
    server_errors = sum(1 for line in log.splitlines() if "[HTTP]" in line and " 500 " in line)
    assert f"http-error-rate (ratio): {server_errors} matching events" in result.output


def test_published_schema_accepts_the_pack_and_refuses_a_typo() -> None:
    result = CliRunner().invoke(main, ["rules", "schema"])
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in rule_files([default_rules_dir()]):  # the rule files (not the *.test.yml beside them)
        document = yaml.safe_load(path.read_text())
        assert list(validator.iter_errors(document)) == [], path.name
    bad = {
        "rules": [
            {
                "id": "x",
                "title": "x",
                "runbook": "x",
                "match": {"message": {"contain": "x"}},
                "examples": {"match": ["x"]},
            }
        ]
    }
    assert list(validator.iter_errors(bad))


def test_list_shows_every_rule_with_its_source() -> None:
    result = CliRunner().invoke(main, ["rules", "list"])
    assert "stripe-webhook-signature" in result.output
    assert "payments.yml:" in result.output
