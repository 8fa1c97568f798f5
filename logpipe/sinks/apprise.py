"""Email (mailto:// or mailtos:// URLs: subject, text and HTML templates) and any other service Apprise knows
(Discord, Telegram, Teams...): sent through Apprise. Apprise reports only success or failure, so every failure
retries. A digest's email carries its HTML report as an attachment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from logpipe.render.renderer import Renderer, TemplateProblem
from logpipe.sinks.base import DeliveryError
from logpipe.sinks.webhook import shown_url


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
