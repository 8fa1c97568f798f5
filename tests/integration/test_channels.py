"""Each channel against a real receiver on loopback."""

from __future__ import annotations

import pytest

from logpipe.render.renderer import Renderer, sample_payload
from logpipe.sinks.apprise import AppriseChannel
from logpipe.sinks.base import DeliveryError
from logpipe.sinks.webhook import WebhookChannel
from tests.integration.receivers import HttpReceiver, SmtpReceiver


def test_webhook_posts_the_rendered_json_with_an_idempotency_key(http_receiver: HttpReceiver) -> None:
    payload = sample_payload()
    WebhookChannel("ops", http_receiver.url + "/hooks/logpipe", "webhook", Renderer()).deliver(payload)
    (request,) = http_receiver.requests
    assert request.path == "/hooks/logpipe"
    assert request.headers["Idempotency-Key"] == payload["id"]
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert (body["rule"], body["status"], body["severity"], body["count"], body["total"]) == (
        "postgres-connection-error",
        "firing",
        "warning",
        3,
        3,
    )
    assert body["incident"] == payload["incident"]
    assert body["event"]["origin"]["name"] == "clipforge-api"


def test_slack_gets_blocks_and_a_non_ok_answer_is_a_failure(http_receiver: HttpReceiver) -> None:
    channel = WebhookChannel("slack", http_receiver.url + "/services/T0/B0/x", "slack", Renderer())
    channel.deliver(sample_payload())
    blocks = http_receiver.requests[0].json()["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Postgres connection error"}}
    assert any(
        "Error: connect ECONNREFUSED 172.18.0.3:5432" in block.get("text", {}).get("text", "") for block in blocks
    )
    http_receiver.plan.append((200, {}, b"invalid_payload"))
    with pytest.raises(DeliveryError, match="invalid_payload") as failed:
        channel.deliver(sample_payload())
    assert failed.value.retryable is False


def test_email_has_subject_text_and_html_parts(smtp_receiver: SmtpReceiver) -> None:
    AppriseChannel("oncall-email", smtp_receiver.url(), Renderer()).deliver(sample_payload())
    (message,) = smtp_receiver.wait_for(1)
    assert message["Subject"] == "[WARNING] Postgres connection error (container=clipforge-api)"
    assert message["To"] == "oncall@clipforge.test"
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None
    assert text is not None
    assert "<h2 style=" in html.get_content()
    assert "Unable to connect to the database. Retrying (1)..." in text.get_content()
