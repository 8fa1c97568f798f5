"""How events look on a terminal: one aligned line each, level coloured, extra lines indented (text from logs made
inert first: console/inert.py)."""

from __future__ import annotations

import click

from logpipe.console.inert import inert
from logpipe.event import Event

_LEVEL_STYLE = {
    "debug": {"fg": "bright_black"},
    "info": {"fg": "green"},
    "warning": {"fg": "yellow"},
    "error": {"fg": "red"},
    "critical": {"fg": "red", "bold": True},
}


def event_line(event: Event, color: bool) -> str:
    stamp = event.datetime.strftime("%H:%M:%S.%f")[:-3]
    level = event.level.upper().ljust(8)
    logger = inert(event.logger or event.origin.stream or "-")[:24].ljust(24)
    message = event.message
    stack = event.stack
    if stack:
        message += "\n" + stack
    message = inert(message)
    body = message.replace("\n", "\n" + " " * 47)
    if event.flags:
        body += "  [" + ",".join(event.flags) + "]"
    if color:
        level = click.style(level, **_LEVEL_STYLE.get(event.level, {}))  # type: ignore[arg-type]
        logger = click.style(logger, fg="cyan")
    return f"{stamp} {level} {logger} {body}"
