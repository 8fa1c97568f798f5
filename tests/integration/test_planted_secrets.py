"""Nothing secret leaves the host: a corpus of 174 log lines with secrets planted in messages, fields, field names,
stacks, loggers and grouping captures (NestJS text and JSON, pino, structlog) goes through every output logpipe
has, and none of the secrets comes out, while timestamps, order ids, `tokenCount` and request ids do."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logpipe.cli import main
from tests.integration.planted_secrets import PLANTED_RULES, SURVIVORS, corpus, leaks
from tests.integration.receivers import Bugsink, HttpReceiver, SmtpReceiver

CASES = corpus()


def write_corpus(tmp_path: Path) -> Path:
    log = tmp_path / "planted.log"
    log.write_text("\n".join(case.line for case in CASES) + "\n")
    return log


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_corpus_is_large_and_its_secrets_are_there_when_not_redacted(tmp_path: Path) -> None:
    assert len(CASES) >= 100
    assert {case.place for case in CASES} == {"message", "field", "key", "stack", "logger", "capture"}
    assert {case.shape for case in CASES} == {"nest-text", "nest-json", "pino", "structlog"}
    unredacted = run(["parse", "--no-redact", str(write_corpus(tmp_path))])
    assert len(leaks(unredacted, CASES)) == len(CASES)  # so the tests below can fail


@pytest.mark.parametrize("output_format", ["jsonl", "table"])
def test_parse_prints_no_planted_secret(tmp_path: Path, output_format: str) -> None:
    printed = run(["parse", "--format", output_format, str(write_corpus(tmp_path))])
    assert leaks(printed, CASES) == []
    for survivor in (*SURVIVORS[:2], "planted case"):
        assert survivor in printed
    if output_format == "jsonl":
        events = [orjson.loads(line) for line in printed.splitlines()]
        assert len(events) == len(CASES)
        assert all(event["time"].startswith("2026-11-27T09:0") for event in events)
        assert sum(1 for event in events if event["fields"].get("tokenCount") == 512) >= len(CASES) * 3 // 4


def test_human_replay_prints_no_planted_secret(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "planted.yml").write_text(PLANTED_RULES)
    printed = run(["replay", "--rules", str(rules), "--format", "human", str(write_corpus(tmp_path))])
    assert printed.count("Planted secret") >= len(CASES)  # each case its own incident (and its resolution)
    assert leaks(printed, CASES) == []
    assert SURVIVORS[0] in printed


@pytest.mark.integration
def test_no_receiver_gets_a_planted_secret(
    tmp_path: Path, bugsink: Bugsink, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    slack = HttpReceiver().start()  # Slack-shaped: the slack template, answered "ok" like Slack
    try:
        rules = tmp_path / "rules"
        rules.mkdir()
        (rules / "planted.yml").write_text(PLANTED_RULES)
        config = tmp_path / "logpipe.yml"
        config.write_text(
            f"state_dir: {tmp_path / 'state'}\n"
            f"sentry: {{dsn: '{bugsink.dsn}', environment: test}}\n"
            "channels:\n"
            f"  ops-webhook: {{url: '{http_receiver.url}/hooks/logpipe', kind: webhook}}\n"
            f"  ops-slack: {{url: '{slack.url}/services/T0/B0/x', kind: slack}}\n"
            f"  oncall-email: {{url: '{smtp_receiver.url()}'}}\n"
            "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
        )
        args = ["replay", "--config", str(config), "--rules", str(rules), "--format", "jsonl", "--wait", "300"]
        printed = run([*args, str(write_corpus(tmp_path))])
        notifications = [orjson.loads(line) for line in printed.splitlines()]
        firing = [n for n in notifications if n["status"] == "firing"]
        assert len(firing) == len(CASES)  # each case its own incident

        stored = [bugsink.event(str(n["id"])) for n in firing]
        assert all(event is not None for event in stored)  # every firing notification is an event in Bugsink
        sent = len(notifications)
        received = {
            "replay --format jsonl": printed,
            "webhook": "\n".join(r.body.decode() for r in http_receiver.wait_for(sent)),
            "slack": "\n".join(r.body.decode() for r in slack.wait_for(sent)),
            "email": "\n".join(
                f"{m['Subject']}\n{m.get_body(('html', 'plain')).get_content()}"  # type: ignore[union-attr]
                for m in smtp_receiver.wait_for(sent, timeout=180)
            ),
            "sentry (Bugsink)": "\n".join(json.dumps(event) for event in stored),
        }
        assert len(http_receiver.requests) == len(slack.requests) == len(smtp_receiver.messages) == sent
        # nor does the outbox on disk hold one (the stored payloads every sink delivers from)
        with sqlite3.connect(tmp_path / "state" / "state.sqlite") as db:
            payloads = [bytes(row[0]).decode() for row in db.execute("SELECT payload FROM alerts")]
        assert len(payloads) == sent
        received["outbox on disk"] = "\n".join(payloads)
        for receiver, text in received.items():
            assert leaks(text, CASES) == [], receiver
        for receiver in ("replay --format jsonl", "webhook", "sentry (Bugsink)"):
            for survivor in SURVIVORS:
                assert survivor in received[receiver], (receiver, survivor)
    finally:
        slack.stop()
