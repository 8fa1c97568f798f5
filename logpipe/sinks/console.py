"""Alerts for a person at a terminal, rendered through the console template (logpipe/templates/console.txt.j2,
or the user's), the first line coloured by severity."""

from __future__ import annotations

from typing import TextIO

import click

from logpipe.alert import Alert
from logpipe.output import inert
from logpipe.redact import Redactor
from logpipe.render import Renderer

_STYLE = {"critical": {"fg": "red", "bold": True}, "warning": {"fg": "yellow"}, "info": {"fg": "cyan"}}


class ConsoleSink:
    name = "console"

    def __init__(self, out: TextIO, color: bool, redactor: Redactor | None, renderer: Renderer | None = None) -> None:
        self.out, self.color, self.redactor = out, color, redactor
        self.renderer = renderer or Renderer()

    def deliver(self, alert: Alert) -> None:
        payload = alert.to_dict()
        if self.redactor is not None:  # None only for --no-redact
            payload = self.redactor.payload(payload)
        # what came from logs may carry terminal escapes (window title, clear screen): shown, never obeyed
        text = inert(self.renderer.render("console", payload, alert.template))
        if self.color:
            first, _, rest = text.partition("\n")
            style = {"fg": "green"} if alert.status == "resolved" else _STYLE.get(alert.severity, {})
            text = click.style(first, **style) + "\n" + rest  # type: ignore[arg-type]
        self.out.write(text)
        self.out.flush()
