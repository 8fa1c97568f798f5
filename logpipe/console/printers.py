"""What `logpipe replay` and `logpipe follow` print of each notification: through the console template
(logpipe/render/templates/console.txt.j2, or the user's) for a person at a terminal, the first line coloured by
severity; or as JSON lines for scripts. A printer shows a Notification as it is made; the outbox's sinks deliver
payloads."""

from __future__ import annotations

import sys
from typing import BinaryIO, TextIO

import click
import orjson
import structlog

from logpipe.console.inert import inert
from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer, TemplateProblem

log = structlog.get_logger("logpipe.console")

_STYLE = {"critical": {"fg": "red", "bold": True}, "warning": {"fg": "yellow"}, "info": {"fg": "cyan"}}


class ConsolePrinter:
    """Notifications for a person at a terminal, through the console template, the first line coloured."""

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


class JsonLinesPrinter:
    """Notifications as JSON lines (one object each, redacted), for scripts and `logpipe replay --format jsonl`."""

    def __init__(self, out: BinaryIO, redactor: Redactor | None) -> None:
        self.out, self.redactor = out, redactor

    def show(self, notification: Notification) -> None:
        payload = notification.to_dict()
        if self.redactor is not None:  # None only for --no-redact: the output stays on this host
            payload = self.redactor.payload(payload)  # the final dict, redacted whole
        self.out.write(orjson.dumps(payload, default=str) + b"\n")
        self.out.flush()


def printer_for(output_format: str, redactor: Redactor | None, renderer: Renderer) -> ConsolePrinter | JsonLinesPrinter:
    """Notifications on stdout: through the console template on a terminal (or --format human), else JSON lines."""
    human = output_format == "human" or (output_format == "auto" and sys.stdout.isatty())
    if human:
        return ConsolePrinter(sys.stdout, sys.stdout.isatty(), redactor, renderer)
    return JsonLinesPrinter(sys.stdout.buffer, redactor)
