"""Notification channels: an alert rendered from its templates and sent to a person.

- `webhook` and `slack` (http:// or https:// URLs): the rendered JSON is POSTed as it is, with the alert id as
  Idempotency-Key, and the HTTP answer decides retry or not (429 and 5xx retry, after Retry-After; other 4xx do
  not). Apprise cannot post a fully custom nested body from a URL, nor report the HTTP status, and both matter
  here, so this is a plain HTTP POST.
- `email` (mailto:// or mailtos:// URLs) and any other Apprise URL (Discord, Telegram, PagerDuty, Teams...): sent
  through Apprise, which knows each service. Apprise reports only success or failure, so every failure retries.

Credentials in a webhook URL (`https://user:pass@host/hook`) become an `Authorization: Basic` header and leave the
URL: urllib would otherwise take `user:pass@host` for the host name and send the password out in a DNS query.
Wherever a channel's URL is shown (errors, logs, repr), it is redacted (`shown_url`).
"""

from __future__ import annotations

import base64
import functools
import urllib.parse
from pathlib import Path
from typing import Any

import structlog

from logpipe.redact import Redactor
from logpipe.render import Renderer, TemplateProblem
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


class AppriseChannel:
    """Email (subject, text and HTML templates) and every other service Apprise supports."""

    def __init__(self, name: str, url: str, renderer: Renderer, attachments: Path | None = None) -> None:
        """`attachments`: where the digest's HTML report is (the state directory's reports/); an email of a
        digest whose payload names a report there carries it as an attachment."""
        self.name, self.url, self.renderer = name, url, renderer  # Apprise's URLs carry credentials by design
        self.attachments = attachments
        self.email = url.split("://", 1)[0] in ("mailto", "mailtos")
        self.shown_url = shown_url(url)

    def __repr__(self) -> str:
        return f"AppriseChannel({self.name!r}, {self.shown_url!r})"

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
        attach = self._report(payload) if self.email else None
        if not notifier.notify(title=title, body=body, body_format=body_format, attach=attach):
            raise DeliveryError(f"{self.name}: Apprise could not deliver (see logpipe's log for its reason)")

    def _report(self, payload: dict[str, Any]) -> str | None:
        """The report file the digest names (report/attachment.py), or None. A report gone from the disk (the
        state directory cleaned) does not hold the digest back: it goes without, and the log says so."""
        if self.attachments is None or "report_file" not in payload or payload["report_file"] is None:
            return None
        from logpipe.report.attachment import attachment

        path = attachment(self.attachments, payload["report_file"])
        if path is None:
            structlog.get_logger("logpipe.notify").warning(
                "digest report not found: sent without it", channel=self.name, report=str(payload["report_file"])
            )
            return None
        return str(path)


def channel_for(
    name: str, url: str, kind: str | None, renderer: Renderer, attachments: Path | None = None
) -> WebhookChannel | AppriseChannel:
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        chosen = kind or ("slack" if "hooks.slack.com" in url else "webhook")
        if chosen not in ("slack", "webhook"):
            raise ValueError(f"channel {name}: an http(s) URL is a slack or webhook channel, not {chosen}")
        return WebhookChannel(name, url, chosen, renderer)
    return AppriseChannel(name, url, renderer, attachments)
