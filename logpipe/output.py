"""How events look on a terminal: one aligned line each, level coloured, extra lines indented; and `inert`, which
every human view applies to text that came from logs."""

from __future__ import annotations

import re

import click

from logpipe.event import Event

_LEVEL_STYLE = {
    "debug": {"fg": "bright_black"},
    "info": {"fg": "green"},
    "warning": {"fg": "yellow"},
    "error": {"fg": "red"},
    "critical": {"fg": "red", "bold": True},
}


# C0 controls but tab and newline, DEL, C1 controls (a lone 0x9b is CSI to some terminals), and the Unicode
# direction overrides and line separators that reorder or break what a reader sees
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """The text with control characters shown as escapes (`\\x1b]0;pwned\\x07`), so a log line can neither set
    the window title, clear the screen nor move the cursor of whoever reads it. Tabs and newlines stay."""
    return _CONTROL.sub(_escaped, text)


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
