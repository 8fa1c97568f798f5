"""`logpipe notify test`, `logpipe render`, and the Sentry breadcrumb trail across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.config.load import load_config
from logpipe.config.settings import Config
from logpipe.redact import Redactor
from logpipe.render.renderer import sample_payload
from logpipe.sinks.wiring import build_dispatcher
from tests.integration.receivers import HttpReceiver


def test_notify_test_sends_a_sample_through_the_named_channel(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text(f"state_dir: state\nchannels:\n  ops: {{url: '{http_receiver.url}/x', kind: webhook}}\n")
    result = CliRunner().invoke(main, ["notify", "test", "ops", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output == "sent a test alert to ops\n"
    assert http_receiver.requests[0].json()["title"] == "logpipe test notification"
    missing = CliRunner().invoke(main, ["notify", "test", "pager", "--config", str(config)])
    assert missing.exit_code == 1
    assert "no channel 'pager' (channels: ops; sentry is not configured)" in missing.output


def test_render_previews_every_template_of_a_rule() -> None:
    result = CliRunner().invoke(main, ["render", "redis-connection-error"])
    assert result.exit_code == 0, result.output
    for status in ("firing", "resolved"):
        for name in ("console", "slack", "webhook", "email.subject", "email.text", "email.html"):
            assert f"--- {status}: {name} (" in result.output
    assert "[WARNING] Redis connection error" in result.output
    assert "[RESOLVED] Redis connection error" in result.output


def envelope_event(body: bytes) -> dict[str, Any]:
    lines = body.split(b"\n")
    for header, payload in zip(lines[1::2], lines[2::2], strict=False):
        if orjson.loads(header).get("type") == "event":
            return orjson.loads(payload)  # type: ignore[no-any-return]
    raise AssertionError("no event item in the envelope")


def test_breadcrumb_trail_survives_a_restart(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    """The trail a restarted process sends is the one its outbox kept: the first process delivers a breadcrumb
    through its outbox and stops; the second builds its sinks from the same state directory (build_sinks reads
    the outbox's recent Sentry payloads) and sends an event carrying that breadcrumb."""
    config = load_config_text(
        tmp_path, f"state_dir: state\nsentry: {{dsn: 'http://{'a' * 32}@127.0.0.1:{http_receiver.port}/7'}}\n"
    )
    crumb = sample_payload() | {"id": "1" * 32, "sentry": "breadcrumb", "title": "Redis connection error"}
    event = sample_payload() | {"id": "2" * 32, "sentry": "event", "title": "Repeated Redis connection errors"}
    for payload in (crumb, event):  # each in a process of its own: built from the config, then stopped
        dispatcher = build_dispatcher(config, Redactor())
        assert dispatcher is not None
        dispatcher.enqueue_payload(payload["id"], payload, ["sentry"])
        assert dispatcher.deliver_due("sentry") == 1
        dispatcher.store.close()
    (request,) = http_receiver.requests  # a breadcrumb waits for the next event of its container
    assert request.path == "/api/7/envelope/"
    sent = envelope_event(request.body)
    assert sent["event_id"] == "2" * 32
    assert [b["message"] for b in sent["breadcrumbs"]["values"]] == [
        "Redis connection error: Unable to connect to the database. Retrying (1)..."
    ]


def load_config_text(tmp_path: Path, text: str) -> Config:
    (tmp_path / "logpipe.yml").write_text(text)
    return load_config(tmp_path / "logpipe.yml")
