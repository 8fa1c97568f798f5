"""NestJS ConsoleLogger text, as its default logger prints it inside a container (colours on, no TTY):

    [Nest] 42  - 11/27/2026, 2:01:54 AM   ERROR [ExceptionsHandler] connect ECONNREFUSED 127.0.0.1:5432 +3ms

The time is the container's local time without a zone (Intl en-US by default, a narrow no-break space before
AM/PM on recent Node); logpipe reads it as UTC, which is what containers run in unless TZ is set, and the
Docker timestamp, when there is one, is the event time anyway.
"""

from __future__ import annotations

import calendar
import re

from logpipe.event import Event, Origin
from logpipe.parsers.ansi import strip_ansi
from logpipe.parsers.levels import LEVEL_NAMES
from logpipe.times import NS_PER_SECOND

_HEADER = re.compile(
    r"\[(?P<app>[^\]\n]{1,64})\] (?P<pid>\d+)\s+-\s+"
    r"(?P<date>\d\d?/\d\d?/\d{4}),? (?P<hour>\d\d?):(?P<minute>\d\d):(?P<second>\d\d)"
    r"(?:[\s\u202f]?(?P<ampm>[AaPp][Mm]))?\s+"
    r"(?P<level>LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) "
    r"(?:\[(?P<context>[^\]\n]*)\] )?"
    r"(?P<message>.*?)(?: \+\d+ms)?$",
    re.DOTALL,
)
_DAY_CACHE: dict[str, int | None] = {}


def _day_start(date: str) -> int | None:
    """Epoch seconds at midnight UTC of MM/DD/YYYY (DD/MM/YYYY when the first number cannot be a month)."""
    if date in _DAY_CACHE:
        return _DAY_CACHE[date]
    first, second, year = (int(part) for part in date.split("/"))
    month, day = (first, second) if first <= 12 else (second, first)
    start = calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0)) if 1 <= month <= 12 and day <= 31 else None
    if len(_DAY_CACHE) > 1024:
        _DAY_CACHE.clear()
    _DAY_CACHE[date] = start
    return start


class NestTextParser:
    name: str = "nest"
    first_chars: str | None = "[\x1b"
    takes_continuation: bool = True

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        text = strip_ansi(line)
        match = _HEADER.match(text)
        if match is None:
            return None
        log_time = None
        day = _day_start(match["date"])
        if day is not None:
            hour = int(match["hour"])
            ampm = match["ampm"]
            if ampm is not None:
                hour = hour % 12 + (12 if ampm in ("PM", "pm", "Pm", "pM") else 0)
            log_time = (day + hour * 3600 + int(match["minute"]) * 60 + int(match["second"])) * NS_PER_SECOND
        fields: dict[str, object] = {"pid": int(match["pid"])}
        if match["app"] != "Nest":
            fields["app"] = match["app"]
        return Event(
            docker_time or log_time or arrival,
            LEVEL_NAMES[match["level"]],
            match["message"],
            match["context"] or "",
            fields,
            origin,
            line,
            self.name,
            docker_time,
            log_time,
        )
