"""configure_logging redacts the whole event dict (keys too) in JSON and console mode, and on a terminal view
escapes control sequences; a traceback is redacted as well."""

from __future__ import annotations

import io

import orjson
import structlog

from logpipe import configure_logging
from logpipe.redact import MASK


def test_json_logs_redact_keys_values_and_exceptions() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=True)
    try:
        raise ValueError("charge failed with sk_live_51HxYzAbCdEfGhIjKl")
    except ValueError:
        structlog.get_logger("payments").exception(
            "charge failed", ghp_16C7e42F292c6912E7710c838347Ae178B4a=1, card=4242424242424242
        )
    text = out.getvalue()
    printed = orjson.loads(text)
    assert printed[MASK] == 1
    assert printed["card"] == "[CARD ****4242]"
    assert "sk_live_51HxYzAbCdEfGhIjKl" not in text
    assert "ghp_16C7e42F292c6912E7710c838347Ae178B4a" not in text


def test_console_logs_redact_tracebacks_and_print_escapes_inert() -> None:
    out = io.StringIO()
    configure_logging("api", stream=out, json=False)
    try:
        raise ValueError("charge failed with sk_live_51HxYzAbCdEfGhIjKl")
    except ValueError:
        structlog.get_logger("payments").exception("charge failed \x1b]0;pwned\x07", email="bob.smith@example.com")
    text = out.getvalue()
    assert "sk_live_51HxYzAbCdEfGhIjKl" not in text
    assert "bob.smith@example.com" not in text
    assert "\x1b]0;" not in text
    assert "\\x1b]0;pwned\\x07" in text
    assert "ValueError" in text
