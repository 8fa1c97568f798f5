"""NestJS ConsoleLogger text, as its default logger prints it inside a container (colours on, no TTY):

    [Nest] 42  - 11/27/2026, 2:01:54 AM   ERROR [ExceptionsHandler] connect ECONNREFUSED 127.0.0.1:5432 +3ms

The time is the container's local time without a zone (Intl en-US by default, a narrow no-break space before
AM/PM on recent Node); logpipe reads it as UTC, which is what containers run in unless TZ is set, and the
Docker timestamp, when there is one, is the event time anyway.

Other locales' dates, NestJS 6/7 headers without a level column, a header behind a `docker compose logs` or
journald prefix, and one whose `[Nest] PID  - ` a log forwarder cut are read by `nestlocale` when the strict
pattern below does not match.

Speed: stripping every colour code from the line with a regex costs more than the rest of the parse, so the header
pattern steps over the codes at the places NestJS puts them, and only the message is cleaned, from its ends.
"""

from __future__ import annotations

import calendar
import re

from logpipe.event import Event, Origin
from logpipe.parsers.ansi import strip_ansi
from logpipe.parsers.levels import LEVEL_NAMES
from logpipe.parsers.nestlocale import lenient_header, level_word_for, locale_time_ns, stripped_header
from logpipe.times import NS_PER_SECOND

_SGR = r"(?:\x1b\[[0-9;:]*m)*"  # any run of colour codes (16, 256 and true colour)
_HEADER = re.compile(
    _SGR
    + r"\[([^\]\n]{1,64})\] (\d+) +- "
    + _SGR  # [Nest] 42  -
    + r"(\d\d?/\d\d?/\d{4},? \d\d?:\d\d:\d\d(?:[\s\u202f]?[AaPp][Mm])?) "  # 11/27/2026, 2:01:54 AM
    + _SGR
    + r" *(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL)"
    + _SGR
    + " "  # padded level
    + r"(?:"
    + _SGR
    + r"\[([^\]\n]*)\] "
    + _SGR
    + r")?"  # [Context]
    + _SGR
    + r"([^\x1b]*)(.*)",  # message up to the first colour code; the rest: codes, " +3ms", or more text
    re.DOTALL,
)
_TRAILER = re.compile(r"(?:\x1b\[[0-9;:]*m| \+\d+ms)+$")
_US_TIME = re.compile(r"(\d\d?)/(\d\d?)/(\d{4}), (\d\d?):(\d\d):(\d\d)[\s\u202f]([AP])M")
_TIME_CACHE: dict[str, int | None] = {}


def _time_ns(text: str) -> int | None:
    """ns for `11/27/2026, 2:01:54 AM`, cached. The en-US shape (NestJS's default: month first, upper-case
    AM/PM) is read here, the fast way; every other locale by `nestlocale.locale_time_ns` (a 24-hour d/m/y is
    day first there)."""
    cached = _TIME_CACHE.get(text, 0)
    if cached != 0:
        return cached
    match = _US_TIME.match(text)
    if match is None:
        value = locale_time_ns(text)
    else:
        first, second, year, hour, minute, sec = (int(g) for g in match.groups()[:6])
        month, day = (first, second) if first <= 12 else (second, first)
        hour = hour % 12 + (12 if match.group(7) == "P" else 0)
        value = None
        if 1 <= month <= 12 and 1 <= day <= 31 and hour < 24:
            value = calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0)) * NS_PER_SECOND
    if len(_TIME_CACHE) >= 4096:
        _TIME_CACHE.clear()
    _TIME_CACHE[text] = value
    return value


def _clean_message(message: str, rest: str) -> str:
    """The message without what NestJS wraps it in: reset codes and the yellow ` +3ms` (time since the previous
    line) behind it. The header pattern already consumed the level colour in front and cut at the next code."""
    if rest:
        if _TRAILER.fullmatch(rest) is not None:
            return message
        message = strip_ansi(message + rest)  # colour codes inside the message text itself
    if message.endswith("ms"):  # no colours: " +3ms" is still on
        trailer = _TRAILER.search(message, max(0, len(message) - 16))
        if trailer is not None:
            return message[: trailer.start()]
    return message


class NestTextParser:
    name: str = "nest"
    first_chars: str | None = None  # a header may stand behind a compose or journald prefix
    takes_continuation: bool = True

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        match = _HEADER.match(line) if line[:1] in "[\x1b" else None
        if match is None:
            return self._parse_lenient(line, origin, docker_time, arrival)
        app, pid, stamp, level, context, message, rest = match.groups()
        log_time = _time_ns(stamp)
        fields: dict[str, object] = {"pid": _pid(pid)}
        if app != "Nest":
            fields["app"] = app
        return Event(
            docker_time or log_time or arrival,
            LEVEL_NAMES[level],
            _clean_message(message, rest),
            strip_ansi(context) if context else "",
            fields,
            origin,
            line,
            self.name,
            docker_time,
            log_time,
        )

    def _parse_lenient(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        """A header in another locale, without a level column, or behind a prefix (rare: off the fast path)."""
        clean = strip_ansi(line) if "\x1b" in line else line
        header = lenient_header(clean) or stripped_header(clean)
        if header is None:
            return None
        log_time = locale_time_ns(header.stamp) if header.stamp else None
        fields: dict[str, object] = {}
        if header.pid is not None:
            fields["pid"] = _pid(header.pid)
        if header.app != "Nest":
            fields["app"] = header.app
        if header.prefix:
            fields["prefix"] = header.prefix
        flags: tuple[str, ...] = ("nest_time_unread",) if header.stamp and log_time is None else ()
        return Event(
            docker_time or log_time or arrival,
            LEVEL_NAMES[level_word_for(header, line)],
            _clean_message(header.message, ""),
            header.context,
            fields,
            origin,
            line,
            self.name,
            docker_time,
            log_time,
            flags,
        )


def _pid(digits: str) -> int | str:
    """The pid as a number, unless it has more digits than 64 bits hold (no output could write it): then text."""
    return int(digits) if len(digits) <= 18 else digits
