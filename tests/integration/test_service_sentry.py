"""A Python service using configure_logging(..., sentry_dsn=...) raises with secrets in its local variables and
its message; the event Bugsink stores holds none of them (frame locals are not sent unless asked, and whatever
is sent passes the redactor)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.receivers import Bugsink

SERVICE = """
import sys
import sentry_sdk
import structlog
from logpipe.logconfig import configure_logging

configure_logging("clip-worker", version="1.0", json=True, sentry_dsn=sys.argv[1],
                  sentry_include_local_variables=sys.argv[2] == "locals")
log = structlog.get_logger("payments")

def charge(user_email):
    card = "4242424242424242"
    stripe_key = "sk_live_51HxYzAbCdEfGhIjKlMn"
    headers = {"Authorization": "Bearer abcdefghijklmnop1234", "x-request-id": "req-7f3a91c2"}
    log.info("charging", email=user_email, password="Hunter2pass", order="order_Nf3kq9ZlS0xYb1")
    raise ValueError(f"charge failed for {user_email} with key {stripe_key}")

try:
    charge("bob.smith@example.com")
except ValueError:
    log.exception("charge failed", card_number="4242424242424242")
sentry_sdk.flush(10)
print(sentry_sdk.last_event_id())
"""

SECRETS = (
    "4242424242424242",
    "bob.smith@example.com",
    "sk_live_51HxYzAbCdEfGhIjKlMn",
    "abcdefghijklmnop1234",
    "Hunter2pass",
)


def service_event(bugsink: Bugsink, mode: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", SERVICE, bugsink.dsn, mode], capture_output=True, text=True, timeout=60, check=True
    )
    event_id = completed.stdout.strip().splitlines()[-1]
    event = bugsink.event(event_id)
    assert event is not None, completed.stderr
    for secret in SECRETS:  # the service's own JSON log is redacted too
        assert secret not in completed.stdout
    return event


def frames(event: dict[str, object]) -> list[dict[str, object]]:
    values = event["exception"]["values"]  # type: ignore[index]
    return [frame for value in values for frame in value["stacktrace"]["frames"]]  # type: ignore[index]


@pytest.mark.integration
def test_a_service_exception_reaches_sentry_without_locals_or_secrets(bugsink: Bugsink) -> None:
    event = service_event(bugsink, "default")
    stored = json.dumps(event)
    assert [secret for secret in SECRETS if secret in stored] == []
    assert all("vars" not in frame for frame in frames(event))  # no frame locals unless asked
    assert "charge failed for b***@example.com with key [REDACTED]" in stored
    assert "order_Nf3kq9ZlS0xYb1" in stored  # the breadcrumb came, redacted, with what is not secret


@pytest.mark.integration
def test_frame_locals_when_asked_for_are_redacted(bugsink: Bugsink) -> None:
    event = service_event(bugsink, "locals")
    stored = json.dumps(event)
    assert [secret for secret in SECRETS if secret in stored] == []
    charge = next(frame for frame in frames(event) if frame.get("function") == "charge")
    assert "req-7f3a91c2" in json.dumps(charge["vars"])  # locals are there, their secrets are not
