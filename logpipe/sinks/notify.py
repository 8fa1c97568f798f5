"""Notification channels: an alert rendered from its templates and sent to a person.

- `webhook` and `slack` (http:// or https:// URLs): the rendered JSON is POSTed as it is, with the alert id as
  Idempotency-Key, and the HTTP answer decides retry or not (429 and 5xx retry, after Retry-After; other 4xx do
  not). Apprise cannot post a fully custom nested body from a URL, nor report the HTTP status, and both matter
  here, so this is a plain HTTP POST.
- `email` (mailto:// or mailtos:// URLs) and any other Apprise URL (Discord, Telegram, PagerDuty, Teams...): sent
  through Apprise, which knows each service. Apprise reports only success or failure, so every failure retries.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from logpipe.render import Renderer, TemplateProblem
from logpipe.sinks.base import DeliveryError, http_failure

USER_AGENT = "logpipe/0.1"


class WebhookChannel:
    """POST the alert's rendered JSON (`webhook.json.j2`, or `slack.json.j2` for a Slack incoming webhook)."""

    def __init__(self, name: str, url: str, kind: str, renderer: Renderer, timeout: float = 10.0) -> None:
        self.name, self.url, self.kind, self.renderer, self.timeout = name, url, kind, renderer, timeout

    def deliver(self, payload: dict[str, Any]) -> None:
        try:
            body = self.renderer.render_json(self.kind, payload, payload.get("template"))
        except TemplateProblem as problem:
            raise DeliveryError(str(problem), retryable=False) from None
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, "Idempotency-Key": payload["id"]},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(2048).decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            raise http_failure(
                error.code, error.read(512).decode("utf-8", "replace"), error.headers.get("Retry-After")
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            raise DeliveryError(f"cannot reach {self.name}: {error}", receiver_down=True) from None
        if self.kind == "slack" and answer.strip() not in ("ok", ""):
            raise DeliveryError(f"Slack answered {answer[:200]!r}", retryable=False)


class AppriseChannel:
    """Email (subject, text and HTML templates) and every other service Apprise supports."""

    def __init__(self, name: str, url: str, renderer: Renderer) -> None:
        self.name, self.url, self.renderer = name, url, renderer
        self.email = url.split("://", 1)[0] in ("mailto", "mailtos")

    def deliver(self, payload: dict[str, Any]) -> None:
        import apprise  # ~0.3 s to import with its plugins: only when a channel sends

        template_set = payload.get("template")
        try:
            if self.email:
                title = self.renderer.render("email.subject", payload, template_set)
                body = self.renderer.render("email.html", payload, template_set)
                body_format = apprise.NotifyFormat.HTML
            else:
                title = payload["title"]
                body = self.renderer.render("console", payload, template_set)
                body_format = apprise.NotifyFormat.TEXT
        except TemplateProblem as problem:
            raise DeliveryError(str(problem), retryable=False) from None
        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            raise DeliveryError(f"{self.name}: Apprise does not understand this URL", retryable=False)
        for service in notifier:
            service.request_rate_per_sec = 0  # Apprise would otherwise sleep ~5.5 s between emails
        if not notifier.notify(title=title, body=body, body_format=body_format):
            raise DeliveryError(f"{self.name}: Apprise could not deliver (see logpipe's log for its reason)")


def channel_for(name: str, url: str, kind: str | None, renderer: Renderer) -> WebhookChannel | AppriseChannel:
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        chosen = kind or ("slack" if "hooks.slack.com" in url else "webhook")
        if chosen not in ("slack", "webhook"):
            raise ValueError(f"channel {name}: an http(s) URL is a slack or webhook channel, not {chosen}")
        return WebhookChannel(name, url, chosen, renderer)
    return AppriseChannel(name, url, renderer)
