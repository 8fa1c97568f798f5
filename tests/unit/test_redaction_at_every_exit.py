"""Redaction at every exit (issue 28, finding 19): what `logpipe probe` prints of a health body, and the incident
records the state store keeps."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import Engine
from logpipe.incidents.book import IncidentBook
from logpipe.state import StateStore
from tests.bodyserver import body_server
from tests.unit.engine.helpers import event, ruleset

SECRETS = ("hunter2", "s3cretpw", "sk_live_51Habcdefghijklmnopqrstu")
BODY = {"status": "ok", "database": {"status": "ok", "dsn": "postgres://app:s3cretpw@db:5432/app"},
        "password": "hunter2", "stripe": {"status": "ok", "key": "sk_live_51Habcdefghijklmnopqrstu"}}  # fmt: skip
RULES = """
rules:
  - id: payment-failed
    title: Payment failed
    runbook: Look at the provider's dashboard.
    severity: critical
    match: {message: {contains: "payment failed"}}
    summary: [message]
    examples: {match: ['payment failed: card_declined']}
"""


def test_redaction_at_every_exit_logpipe_probe_prints_the_health_body_redacted() -> None:
    with body_server([orjson.dumps(BODY)]) as url:
        result = CliRunner().invoke(main, ["probe", url, "--timeout", "2s"])
    assert result.exit_code == 0, result.output
    printed = orjson.loads(result.stdout)["fields"]["probe"]
    assert printed["components"] == {"database": "up", "stripe": "up"}
    for secret in SECRETS:
        assert secret not in result.stdout


def test_redaction_at_every_exit_the_state_store_keeps_incidents_redacted_but_their_identity(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, RULES))
    book = IncidentBook(engine.ruleset)
    line = "payment failed: password=hunter2 key=sk_live_51Habcdefghijklmnopqrstu"
    for notification in book.observe_all(engine.process(event(1, line))):
        assert notification.kind == "firing"
    store = StateStore(tmp_path / "state" / "state.sqlite")
    store.progress.save({}, {}, book.snapshot())
    (record,) = store.progress.open_incidents()
    store.close()
    text = orjson.dumps(record).decode()
    assert "payment failed" in text
    assert not any(secret in text for secret in SECRETS), text
    restored = IncidentBook(engine.ruleset)
    restored.restore([record])
    assert list(restored.open) == list(book.open)  # the same incident after a restart: nothing paged again
