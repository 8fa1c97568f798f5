"""Alerts for a person at a terminal, rendered through the console template (logpipe/templates/console.txt.j2,
or the user's), the first line coloured by severity."""

from __future__ import annotations

from typing import TextIO

import click
import structlog

from logpipe.incidents.notification import Notification
from logpipe.inert import inert
from logpipe.redact import Redactor
from logpipe.render import Renderer, TemplateProblem

log = structlog.get_logger("logpipe.console")

_STYLE = {"critical": {"fg": "red", "bold": True}, "warning": {"fg": "yellow"}, "info": {"fg": "cyan"}}


class ConsolePrinter:
    name = "console"

    def __init__(self, out: TextIO, color: bool, redactor: Redactor | None, renderer: Renderer | None = None) -> None:
        self.out, self.color, self.redactor = out, color, redactor
        self.renderer = renderer or Renderer()

    def show(self, notification: Notification) -> None:
        payload = notification.to_dict()
        if self.redactor is not None:  # None only for --no-redact: the final dict, redacted whole
            payload = self.redactor.payload(payload)
        try:
            # what came from logs may carry terminal escapes (window title, clear screen): shown, never obeyed
            text = inert(self.renderer.render("console", payload, notification.template))
        except TemplateProblem as problem:
            # a user template's error (the boundary around templates): say it, and show the notification plainly;
            # a crash here would repeat at every restart, its line being behind the checkpoint
            log.error("console template failed; printed plainly", error=str(problem), rule=notification.rule)
            n = notification
            text = f"{n.kind.upper()} {n.severity} {n.rule}: {n.title} (console template failed)\n"
        if self.color:
            first, _, rest = text.partition("\n")
            style = {"fg": "green"} if notification.kind == "resolved" else _STYLE.get(notification.severity, {})
            text = click.style(first, **style) + "\n" + rest  # type: ignore[arg-type]
        self.out.write(text)
        self.out.flush()
