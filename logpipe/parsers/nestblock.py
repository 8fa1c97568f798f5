"""What belongs to a NestJS ConsoleLogger event when its message or its stack spans lines.

`logger.error(error.message, error.stack)` with a message of several lines (stripe-node's signature error, Prisma's
`Invalid prisma.x.y() invocation:`) prints, on one stream:

    [Nest] 1  - 12/07/2026, 2:09:01 PM   ERROR [StripeWebhookService] No signatures found matching ... from Stripe?
    If a webhook request is being forwarded by a third-party tool, ensure that the exact request body, ...
                                                                        (a blank line of the message)
    Learn more about webhook signing and explore webhook integration examples for various frameworks at https://...
    \\x1b[39m                                                            (the colour reset, alone on its line)
    Error: No signatures found matching the expected signature for payload. Are you passing ... from Stripe?
    If a webhook request ...                                            (the stack repeats the whole message)
        at Object.verifyHeader (/app/node_modules/stripe/cjs/Webhooks.js:80:23)

The header's write and the stack's come within microseconds of each other, so every line up to the next NestJS
header on the same stream belongs to the event while the lines keep coming within `BLOCK_WINDOW_NS` of each other
(the assembler's caps bound its size), unless a line opens another logger's record (a JSON object, a `[tag]`, a
timestamp, a level word, Node's `(node:PID)` warnings). Behind a `docker compose logs` or journald prefix the same
holds for the lines that carry the header's prefix (digits may differ: journald's clock). The event's message is the
message's lines; its stack (`fields.stack`) starts where the stack repeats the message's first line, else at the
exception line that heads the first frames, so the repeated message is kept once, in the stack.
"""

from __future__ import annotations

import re

from logpipe.parsers.ansi import strip_ansi
from logpipe.parsers.nestlocale import lenient_header

BLOCK_WINDOW_NS = 25_000_000  # the header's write and the stack's; Docker stamps them microseconds apart

_SGR = r"(?:\x1b\[[0-9;:]*m)*"
_HEADER_START = re.compile(_SGR + r"\[[^\]\n]{1,64}\] \d+ +- ")  # `[Nest] 42  - `, any locale's date after it
# a line that opens another logger's record: it is not part of the NestJS event even within the window
_RECORD_START = re.compile(
    r'\{"|\[[\w.@/:-]{1,64}\]\s|\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\(node:\d+\)'
    r"|(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL)\b[\s:\[]|(?:time|ts|level|msg)="
)
_EXCEPTION_LINE = re.compile(r"[\w.$]*(?:Error|Exception)(?: \[[^\]]*\])?:")
_FRAME = re.compile(r"\s+at |at [^\n]{1,400}(?::\d+:\d+\)?|\((?:native|<anonymous>|index \d+)\))\s*$")
_DELTA = re.compile(r"\s\+\d+ms$")
_DIGITS = str.maketrans("0123456789", "0000000000")


def header_prefix(raw: str, app: str) -> str:
    """What stands before `[App]` in a header read behind a prefix (`api-1  | `, a journald stamp), or ""."""
    clean = strip_ansi(raw)
    at = clean.find("[" + app + "]")
    return clean[:at] if at > 0 else ""


def block_line(line: str, prefix: str) -> str | None:
    """The line as it would continue a NestJS event (colours and the header's prefix off), or None when it
    cannot: another NestJS header, or a line without the header's prefix."""
    if not prefix and _HEADER_START.match(line) is not None:
        return None  # the common case, every NestJS line: one anchored match, no copy
    text = strip_ansi(line) if "\x1b" in line else line
    if prefix:
        if text[: len(prefix)].translate(_DIGITS) != prefix.translate(_DIGITS):
            return None
        text = text[len(prefix) :]
        if _HEADER_START.match(text) is not None:
            return None
    if text[:1] == "[" and lenient_header(text) is not None:
        return None
    return text


def opens_record(text: str, has_stack: bool) -> bool:
    """Whether a line (colours off) starts another logger's record rather than continuing a message. An
    exception line does, under a header that prints no stack (LOG, DEBUG: NestJS prints one for ERROR and FATAL;
    a warning may carry one): `console.log(error)` after an ordinary line is an event of its own."""
    if _RECORD_START.match(text.lstrip(" \t")) is not None:  # also a NestJS level column padded with spaces
        return True
    return not has_stack and _EXCEPTION_LINE.match(text) is not None


def split_block(message: str, body: list[str]) -> tuple[str, list[str]]:
    """The event's message (the header's and the lines that continue it) and its stack lines, from the lines
    that followed the header (colours and prefix off)."""
    start = _stack_start(message.split("\n", 1)[0].strip(), body)
    lines = body[:start]
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:  # the ` +3ms` NestJS prints after the message: on the colour reset's line, or on the last one
        lines[-1] = _DELTA.sub("", lines[-1])
    parts = [message, *lines]
    while parts and not parts[-1].strip():
        parts.pop()
    while parts and not parts[0].strip():
        parts.pop(0)
    return "\n".join(parts), body[start:]


def _stack_start(first: str, body: list[str]) -> int:
    """Where the stack begins: the line that repeats the message's first line after an error name
    (`Error: <message>`), else the last exception line above the first frame, else the first frame; len(body)
    when no frame follows."""
    frame = next((index for index, line in enumerate(body) if _FRAME.match(line)), len(body))
    if frame == len(body):
        return frame
    if first:
        for index in range(frame):
            line = body[index]
            named = _EXCEPTION_LINE.match(line)
            if named is not None and line[named.end() :].strip() == first:
                return index
    for index in range(frame - 1, -1, -1):  # the last one: a multi-line error message stands between it and them
        if _EXCEPTION_LINE.match(body[index]) is not None:
            return index
    return frame
