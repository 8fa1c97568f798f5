"""Text lines: logfmt, lines that open with a timestamp / level word / [logger], and the plain fallback."""

from __future__ import annotations

import re
from typing import Any

from logpipe.event import UNPARSED, Event, Origin
from logpipe.parsers.levels import LEVEL_NAMES
from logpipe.parsers.record import LEVEL_KEYS, MESSAGE_KEYS, event_from_record
from logpipe.times import parse_iso8601

_LOGFMT_PAIR = re.compile(r'([A-Za-z_@][\w.\-@/]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_LOGFMT_START = re.compile(r"[A-Za-z_@][\w.\-@/]*=")
_LOGFMT_MARKERS = frozenset((*MESSAGE_KEYS, *LEVEL_KEYS, "time", "ts"))
_NUMBER = re.compile(r"-?\d{1,18}(?:\.\d+)?")  # an integer of 19 digits or more may not fit 64 bits: kept as text


def _logfmt_value(raw: str) -> Any:
    if raw.startswith('"'):
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if _NUMBER.fullmatch(raw):
        return float(raw) if "." in raw else int(raw)
    if raw in ("true", "false"):
        return raw == "true"
    return raw


class LogfmtParser:
    """`time=... level=error msg="..." key=value` (Go services, Heroku, some Node loggers)."""

    name: str = "logfmt"
    first_chars: str | None = None
    takes_continuation: bool = True

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        if _LOGFMT_START.match(line) is None:
            return None
        record = {key: _logfmt_value(value) for key, value in _LOGFMT_PAIR.findall(line)}
        if len(record) < 2 or _LOGFMT_MARKERS.isdisjoint(record):
            return None
        return event_from_record(record, self.name, line, origin, docker_time, arrival)


_LEVEL_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE"
_TEXT_HEADER = re.compile(
    r"[ \t]*"  # a level column padded like NestJS's (`  ERROR [Context] ...` once a forwarder cut what stood before)
    r"(?:(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?\s?(?:Z|[+-]\d\d:?\d\d|UTC)?)\s+)?"
    r"(?:\[(?P<tag>[^\]\s]{1,64})\]\s+(?=\[(?i:" + _LEVEL_WORDS + r")\]))?"  # `[webhook] [ERROR] x`
    r"(?:(?:\[(?P<blevel>(?i:" + _LEVEL_WORDS + r"))\]"  # [error] in any case
    r"|(?P<ulevel>" + _LEVEL_WORDS + r")(?=[:\s])"  # ERROR, upper case only ("Error: x" is a message)
    r"|(?P<llevel>(?:" + _LEVEL_WORDS.lower() + r"))(?=:))"  # winston's "error: x"
    r":?\s+)?"
    r"(?:\[(?P<logger>[^\]\s]{1,64})\]:?\s+)?"
    r"(?P<message>.*)$",
    re.DOTALL,
)


# a second level word after the first: the words are the message's subject (V8's `FATAL ERROR: Reached heap
# limit ...`), not a level column followed by a message
_SUBJECT = re.compile(r"(?:" + _LEVEL_WORDS + r")\b")


class TextParser:
    """A line that opens with a timestamp, a level word or a [logger] tag, e.g. `[ioredis] Unhandled error`,
    `[webhook] [ERROR] Stripe webhook not configured`."""

    name: str = "text"
    first_chars: str | None = None
    takes_continuation: bool = True

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        match = _TEXT_HEADER.match(line)
        if match is None:
            return None
        stamp, logger = match["time"], match["logger"] or match["tag"]
        level_word = match["blevel"] or match["ulevel"] or match["llevel"]
        if stamp is None and level_word is None and logger is None:
            return None
        log_time = parse_iso8601(stamp.replace(",", ".")) if stamp else None
        level = LEVEL_NAMES.get(level_word.lower()) if level_word else _stream_level(origin)
        message = match["message"]
        if match["ulevel"] is not None and logger is None and _SUBJECT.match(message) is not None:
            message = line[match.start("ulevel") :]
        return Event(
            docker_time or log_time or arrival,
            level or "info",
            message,
            logger or "",
            {},
            origin,
            line,
            self.name,
            docker_time,
            log_time,
        )


def _stream_level(origin: Origin) -> str:
    # A line with no level of its own: what a program writes to stderr is its errors (console.error,
    # library warnings, crash output), as Google Cloud Logging also reads it.
    return "error" if origin.stream == "stderr" else "info"


class PlainParser:
    """The fallback: claims every line. Binary garbage and broken JSON are kept, marked UNPARSED."""

    name: str = "plain"
    first_chars: str | None = None
    takes_continuation: bool = True

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        parser = self.name
        flags: tuple[str, ...] = ()
        if _looks_binary(line):
            parser, flags = UNPARSED, ("binary",)
        elif line.startswith("{") and line.rstrip().endswith("}"):
            parser, flags = UNPARSED, ("invalid_json",)
        return Event(
            docker_time or arrival,
            _stream_level(origin),
            line,
            "",
            {},
            origin,
            line,
            parser,
            docker_time,
            None,
            flags,
        )


def _looks_binary(line: str) -> bool:
    if line.isprintable():
        return False
    controls = sum(1 for char in line if (char < " " and char not in "\t\x1b") or char == "\ufffd")
    return "\x00" in line or controls * 10 > len(line)
