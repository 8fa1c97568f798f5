"""The webhook and Slack channels: a notification rendered from its JSON template (`webhook.json.j2`, or
`slack.json.j2` for a Slack incoming webhook) and POSTed as it is, with its id as Idempotency-Key; the HTTP answer
decides retry or not (sinks/base.py). Apprise cannot post a fully custom nested body from a URL, nor report the
HTTP status, and both matter here, so this is a plain HTTP POST.

Credentials in a webhook URL (`https://user:pass@host/hook`) become an `Authorization: Basic` header and leave the
URL: urllib would otherwise take `user:pass@host` for the host name and send the password out in a DNS query.
Wherever a channel's URL is shown (errors, logs, repr), it is redacted (`shown_url`).
"""

from __future__ import annotations

import base64
import functools
import urllib.parse
from typing import Any

from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer, TemplateProblem
from logpipe.sinks.base import DeliveryError, post


def split_credentials(url: str) -> tuple[str, str | None]:
    """The URL without its userinfo, and the Authorization header that carries it instead (None without)."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    basic = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), "Basic " + base64.b64encode(basic).decode()


@functools.cache
def _url_redactor() -> Redactor:
    return Redactor()


def shown_url(url: str) -> str:
    """The URL as it may be shown: credentials and secret paths (a Slack webhook's) redacted."""
    return _url_redactor().text(url)


class WebhookChannel:
    """POST the alert's rendered JSON (`webhook.json.j2`, or `slack.json.j2` for a Slack incoming webhook)."""

    def __init__(self, name: str, url: str, kind: str, renderer: Renderer, timeout: float = 10.0) -> None:
        self.name, self.kind, self.renderer, self.timeout = name, kind, renderer, timeout
        self.url, self._authorization = split_credentials(url)
        self.shown_url = shown_url(url)

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r}, {self.shown_url!r}, {self.kind!r})"

    def deliver(self, payload: dict[str, Any]) -> None:
        try:
            body = self.renderer.render_json(self.kind, payload, payload.get("template"))
        except TemplateProblem as problem:
            raise DeliveryError(str(problem), retryable=False) from None
        headers = {"Content-Type": "application/json", "Idempotency-Key": payload["id"]}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        answer = post(self.url, body, headers, timeout=self.timeout, receiver=self.name, shown=shown_url).decode(
            "utf-8", "replace"
        )
        if self.kind == "slack" and answer.strip() not in ("ok", ""):
            raise DeliveryError(f"Slack answered {answer[:200]!r}", retryable=False)
