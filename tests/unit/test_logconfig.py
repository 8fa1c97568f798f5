"""configure_logging: what a service prints must come back through logpipe's JSON parser without loss."""

from __future__ import annotations

import io
import logging
from typing import Any

import orjson
import pytest
import sentry_sdk
import structlog
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from logpipe import configure_logging
from logpipe.redact import MASK
from tests.unit.parsers.helpers import parse_one


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_structlog_json_round_trips_through_the_parser_without_loss() -> None:
    out = io.StringIO()
    configure_logging("clip-worker", version="1.4.2", stream=out, json=True)
    structlog.contextvars.bind_contextvars(request_id="req-1", user_id="usr_1")
    structlog.get_logger("worker.render").warning("clip rendered", clip_id="clp_1", duration_ms=812, ok=True)
    (line,) = lines_of(out)
    printed = orjson.loads(line)
    event = parse_one(line)
    assert (event.parser, event.message, event.level, event.logger) == (
        "json",
        "clip rendered",
        "warning",
        "worker.render",
    )
    assert event.fields == {
        "service": "clip-worker",
        "version": "1.4.2",
        "request_id": "req-1",
        "user_id": "usr_1",
        "clip_id": "clp_1",
        "duration_ms": 812,
        "ok": True,
    }
    # everything printed is either a normalised attribute or a field: nothing lost
    assert set(printed) == {"event", "level", "logger", "timestamp", *event.fields}
    assert printed["timestamp"].endswith("Z")
    assert event.log_time is not None


def test_stdlib_logging_comes_out_as_the_same_json() -> None:
    out = io.StringIO()
    configure_logging("clip-worker", stream=out, json=True)
    logging.getLogger("botocore").error("upload to %s failed", "s3://clips")
    event = parse_one(lines_of(out)[0])
    assert (event.message, event.level, event.logger) == ("upload to s3://clips failed", "error", "botocore")
    assert event.fields["service"] == "clip-worker"


def test_exceptions_are_structured_and_readable_as_a_stack() -> None:
    out = io.StringIO()
    configure_logging("clip-worker", stream=out, json=True)
    try:
        raise ValueError("bad codec")
    except ValueError:
        structlog.get_logger("worker").exception("render failed")
    event = parse_one(lines_of(out)[0])
    assert event.level == "error"
    assert isinstance(event.fields["exception"], list)
    assert event.stack is not None
    assert event.stack.endswith("ValueError: bad codec")


def test_secrets_are_redacted_before_printing() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=True)
    structlog.get_logger().info("login for bob@example.com", password="hunter2", api_key="sk_live_abcdefgh12345")
    printed = orjson.loads(lines_of(out)[0])
    assert (printed["password"], printed["api_key"], printed["event"]) == (MASK, MASK, "login for b***@example.com")


def test_level_filter_applies() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=True, level="warning")
    structlog.get_logger().info("hidden")
    structlog.get_logger().warning("shown")
    assert [orjson.loads(line)["event"] for line in lines_of(out)] == ["shown"]


class RecordingTransport(Transport):
    """sentry-sdk's real client and scope code, stopping at the HTTP send (the Bugsink end-to-end test comes
    with the forwarders)."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(dict(event))


@pytest.fixture
def sentry_events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    transport = RecordingTransport()
    real_init = sentry_sdk.init
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: real_init(transport=transport, **kw))
    yield transport.events
    sentry_sdk.get_client().close()


def test_sentry_gets_breadcrumbs_from_info_and_one_event_per_error(sentry_events: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=True, sentry_dsn="http://k@127.0.0.1:9/1")
    log = structlog.get_logger("credits")
    log.info("deducting", user_id="usr_1", password="hunter2")
    log.error("credit deduction failed", user_id="usr_1")
    sentry_sdk.flush()
    (event,) = sentry_events
    assert (event["message"], event["level"]) == ("credit deduction failed", "error")
    crumbs = event["breadcrumbs"]["values"]
    assert [(c["message"], c["data"]["user_id"]) for c in crumbs] == [("deducting", "usr_1")]
    assert "hunter2" not in orjson.dumps(event, default=str).decode()
    assert len(lines_of(out)) == 2  # the JSON lines still print


def _log_a_failed_charge() -> None:
    # free text no redaction pattern knows, made at run time (a traceback's source lines must not show it)
    card_holder_note = " ".join(["call Bob Smith about his", "divorce".upper()])
    try:
        raise ValueError("charge failed")
    except ValueError:
        structlog.get_logger("payments").exception("charge failed", note_id=len(card_holder_note))


def test_frame_locals_are_printed_only_when_asked() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=True)
    _log_a_failed_charge()
    (frame,) = [f for e in orjson.loads(lines_of(out)[0])["exception"] for f in e["frames"]]
    assert not frame.get("locals")  # absent, or null (structlog 24)
    assert "DIVORCE" not in out.getvalue()

    out = io.StringIO()
    configure_logging("api", stream=out, json=True, include_locals=True)
    _log_a_failed_charge()
    (frame,) = [f for e in orjson.loads(lines_of(out)[0])["exception"] for f in e["frames"]]
    assert "DIVORCE" in frame["locals"]["card_holder_note"]


def test_the_console_view_shows_no_locals_either() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=False, redact=False)
    _log_a_failed_charge()
    assert "ValueError" in out.getvalue()  # rich's traceback, without its locals panel
    assert "DIVORCE" not in out.getvalue()


def test_an_unsupported_sentry_sdk_is_one_warning_and_logging_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end-to-end check runs a real sentry-sdk 1.x (tests/integration/test_service_sentry.py); this one, the
    message for a major that does not exist yet."""
    monkeypatch.setattr(sentry_sdk, "VERSION", "4.0.0")
    out = io.StringIO()
    configure_logging("api", stream=out, json=True, sentry_dsn="http://k@127.0.0.1:9/1")
    structlog.get_logger().info("still logging")
    warning, logged = (orjson.loads(line) for line in lines_of(out))
    assert warning["level"] == "warning"
    assert warning["event"].startswith("sentry-sdk 4.0.0 is not supported; logging goes on without Sentry")
    assert "'sentry-sdk>=2,<4'" in warning["event"]
    assert logged["event"] == "still logging"
