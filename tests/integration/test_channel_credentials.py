"""Credentials in a webhook channel's URL travel as an Authorization header to the right host, never as part of
a host name (urllib would resolve `user:pass@host` and leak the password in a DNS query); the URL is shown
redacted wherever logpipe shows it."""

from __future__ import annotations

import base64

import pytest

from logpipe.render.renderer import Renderer, sample_payload
from logpipe.sinks.base import DeliveryError
from logpipe.sinks.webhook import WebhookChannel
from logpipe.sinks.wiring import channel_for
from tests.integration.receivers import HttpReceiver, free_port


@pytest.mark.integration
def test_url_credentials_become_an_authorization_header(http_receiver: HttpReceiver) -> None:
    url = http_receiver.url.replace("http://", "http://ops:p%40ss%3Aword@") + "/hooks/logpipe?team=payments"
    channel = channel_for("ops", url, "webhook", Renderer())
    channel.deliver(sample_payload())
    (request,) = http_receiver.wait_for(1)
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"ops:p@ss:word").decode()
    assert request.path == "/hooks/logpipe?team=payments"
    assert "p%40ss" not in repr(channel)
    shown = f"http://[REDACTED]@127.0.0.1:{http_receiver.port}/hooks/logpipe?team=payments"
    assert repr(channel) == f"WebhookChannel('ops', {shown!r}, 'webhook')"


def test_a_failed_delivery_names_no_credentials() -> None:
    channel = WebhookChannel("ops", f"http://ops:hunter2pw@127.0.0.1:{free_port()}/x", "webhook", Renderer())
    with pytest.raises(DeliveryError) as failure:
        channel.deliver(sample_payload())
    assert "cannot reach ops" in str(failure.value)
    assert "hunter2pw" not in str(failure.value)


def test_a_url_without_credentials_sends_no_authorization(http_receiver: HttpReceiver) -> None:
    channel_for("ops", http_receiver.url + "/x", "webhook", Renderer()).deliver(sample_payload())
    (request,) = http_receiver.wait_for(1)
    assert "Authorization" not in request.headers
