"""NestJS ConsoleLogger headers in any locale, and their timestamps.

NestJS prints its timestamp with `Date.prototype.toLocaleString()`, so the header's date follows the container's
locale (and older NestJS versions print no level column at all):

    [Nest] 42  - 11/27/2026, 2:01:54 AM   ERROR [ExceptionsHandler] ...      en-US (the default)
    [Nest] 58947  - 08.12.2021, 13:39:14   ERROR [ExceptionsHandler] ...     de: day first, 24-hour clock
    [Nest] 18076  - 26/05/2025, 11:29:31 a. m.   ERROR [ExceptionsHandler]   es: day first, "a. m."
    [Nest] 23598  - 2023. 06. 18. 오후 5:56:06   ERROR [ExceptionsHandler]    ko: year first, 오후 = PM
    [Nest] 1   - 11/02/2020, 9:02:37 PM   [ExceptionsHandler] ...            NestJS 7: no level column
    [Nest] ERROR [ExceptionHandler] ...                                       pid and date cut (as pasted)
    nestjs    | [Nest] 131  - 05/26/2023, 9:11:37 PM   ERROR [...] ...       behind a compose/journald prefix
    01/24/2024, 1:58:38 PM   ERROR [ExceptionsHandler] ...                   `[Nest] PID  - ` cut by a forwarder

The `[Nest] PID  - ` prefix and the level column are fixed; whatever stands between them is the date. This module
reads that date leniently; where it cannot (or it names no valid day), the line is still a NestJS event, with no
log time and the flag `nest_time_unread` (the Docker timestamp, when there is one, is the event's time anyway).
"""

from __future__ import annotations

import calendar
import re

from logpipe.times import NS_PER_SECOND

#: a header anywhere in the first characters of a line: `[App] [pid] [-] <date> [LEVEL] [Context] message`
_LENIENT = re.compile(
    r"(?P<prefix>.{0,80}?)\[(?P<app>[^\]\n]{1,64})\] "
    r"(?:(?P<pid>\d+) +)?(?:- +)?"
    r"(?P<stamp>[^\[\n]{0,48}?)"
    r"(?:(?<![^\s])(?P<level>LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) +|(?<=\s)(?=\[)|$)"
    r"(?:\[(?P<context>[^\]\n]*)\] ?)?"
    r"(?P<message>.*)",
    re.DOTALL,
)
_LEVEL_FREE_ERRORS = frozenset({"ExceptionsHandler", "ExceptionHandler"})
# a header whose `[Nest] PID  - ` a log forwarder cut (Loki, Grafana's export): a locale's date (`/` or `.` between
# its numbers: an ISO date is another logger's), the level column, the context
_STRIPPED = re.compile(
    r"(?P<prefix>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[.,\d]*Z?\s+)?"  # the forwarder's own time, if it kept one
    r"(?P<stamp>\d{1,4}[./] ?\d{1,2}[./] ?\d{1,4}\.?,? [^\[\n]{4,24}?) +"
    r"(?P<level>LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) +\[(?P<context>[^\]\n]{1,64})\] ?(?P<message>.*)",
    re.DOTALL,
)

_CLOCK = re.compile(r"(\d{1,2}):(\d\d)(?::(\d\d))?")
_YEAR_FIRST = re.compile(r"(\d{4})\s*[./\-年]\s*(\d{1,2})\s*[./\-月]\s*(\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})\s*([./\-])\s*(\d{1,2})\s*[./\-]\s*(\d{4})")
_PM = re.compile(r"\b[Pp]\.?\s?[Mm]\b\.?|오후|午後|下午")
_AM = re.compile(r"\b[Aa]\.?\s?[Mm]\b\.?|오전|午前|上午")
_US_MERIDIEM = re.compile(r"\b(?:AM|PM)\b")


class LenientHeader:
    """What the lenient pattern found in a NestJS line: the parts of its header, and its message."""

    __slots__ = ("app", "context", "level", "message", "pid", "prefix", "stamp")

    def __init__(self, match: re.Match[str]) -> None:
        groups = match.groupdict()
        self.app: str = groups.get("app") or "Nest"
        self.pid: str | None = groups.get("pid")
        self.stamp: str = match["stamp"].strip().rstrip(",").strip()
        self.level: str | None = match["level"]
        self.context: str = match["context"] or ""
        self.message: str = match["message"]
        self.prefix: str = (groups.get("prefix") or "").strip()


def lenient_header(line: str) -> LenientHeader | None:
    """The header of a NestJS line the strict pattern did not read (a locale's date, no level column, a prefix),
    or None when the line is not one. `line` carries no colour codes."""
    if not line.startswith("[") and line.find("[Nest] ", 0, 100) < 0:
        return None  # most lines: one C-level scan and out
    match = _LENIENT.match(line)
    if match is None:
        return None
    header = LenientHeader(match)
    named = header.app == "Nest"
    if match["prefix"] and not (named and match["prefix"][-1:].isspace()):
        return None  # a prefix only before `[Nest]`, and only as a separate word (compose, journald, a date)
    has_date = any(char.isdigit() for char in header.stamp)
    if not named and not (header.pid and has_date):
        return None  # `[ioredis] ...`, `[webhook] [ERROR] ...`: a tag, not a NestJS header
    if header.level is None and not (has_date or header.context):
        return None
    if header.stamp and not has_date:
        return None  # words between the pid and the level: not a NestJS date
    return header


def stripped_header(line: str) -> LenientHeader | None:
    """A NestJS line without its `[Nest] PID  - ` (`01/24/2024, 1:58:38 PM   ERROR [ExceptionsHandler] ...`), or
    None. `line` carries no colour codes."""
    if not line[:1].isdigit():
        return None
    match = _STRIPPED.match(line)
    return LenientHeader(match) if match is not None else None


def level_word_for(header: LenientHeader, raw: str) -> str:
    """The NestJS level word: the level column, or (NestJS 6/7 printed none, only colours) red means ERROR and
    the exception handlers' lines are errors."""
    if header.level is not None:
        return header.level
    if "\x1b[31m" in raw or header.context in _LEVEL_FREE_ERRORS:
        return "ERROR"
    return "LOG"


def locale_time_ns(stamp: str) -> int | None:
    """ns for a `toLocaleString()` date and time in any locale, or None when it cannot be read.

    Year first (`2023. 06. 18.`, `2023/02/12`, `2021-12-08`) is year, month, day. Year last with `.` or `-`
    (`08.12.2021`, `8-12-2021`) is day first: every locale writing so puts the day first. With `/` the order
    is ambiguous: a first number over 12 is a day, a second over 12 is one too; otherwise an upper-case AM/PM
    (en-US, NestJS's default) means month first, and a 24-hour clock, `am`/`pm` or `a. m.` (en-GB, en-AU,
    fr, es, it, pt) day first."""
    clock = _CLOCK.search(stamp)
    if clock is None:
        return None
    date_part = stamp[: clock.start()]
    year_first = _YEAR_FIRST.search(date_part)
    if year_first is not None:
        year, month, day = (int(g) for g in year_first.groups())
    else:
        year_last = _YEAR_LAST.search(date_part)
        if year_last is None:
            return None
        first, separator, second, year_text = year_last.groups()
        first_n, second_n, year = int(first), int(second), int(year_text)
        if separator != "/" or first_n > 12:
            day, month = first_n, second_n
        elif second_n > 12 or _US_MERIDIEM.search(stamp[clock.end() :]) is not None:
            month, day = first_n, second_n
        else:
            day, month = first_n, second_n
    hour, minute = int(clock[1]), int(clock[2])
    second_of_minute = int(clock[3]) if clock[3] else 0
    around = stamp[: clock.start()] + " " + stamp[clock.end() :]
    if _PM.search(around) is not None:
        hour = hour % 12 + 12
    elif _AM.search(around) is not None:
        hour %= 12
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second_of_minute > 60:
        return None
    return calendar.timegm((year, month, day, hour, minute, second_of_minute, 0, 0, 0)) * NS_PER_SECOND
