"""Timestamps as logs write them, turned into ns since the epoch (UTC), fast enough to run on every line.

Lines of one stream share their second, so the costly part (calendar arithmetic on the date and time of day) is
cached per distinct second prefix; only the fraction and the zone offset are read per line.
"""

from __future__ import annotations

import calendar
import math
import re

NS_PER_SECOND = 1_000_000_000
# The times logpipe holds: 1900-01-01 to 2199-12-31 UTC. Times are int64 nanoseconds (SQLite, orjson and Redis
# hold 64 bits: 2262 at most), and a window, throttle or silence end is a time plus a duration of up to 10 years
# (engine/durations.py), which must fit too. A log's time outside this is no time logpipe can use: the parsers'
# boundary (parsers/detect.py) drops it and flags the event `time_out_of_range`.
EARLIEST_NS = -2_208_988_800 * NS_PER_SECOND
LATEST_NS = 7_258_118_400 * NS_PER_SECOND  # exclusive


def in_range(ns: int) -> bool:
    """Whether `ns` is a time logpipe can hold (EARLIEST_NS <= ns < LATEST_NS)."""
    return EARLIEST_NS <= ns < LATEST_NS


_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)"  # date and time of day
    r"(?:[.,](\d{1,9})\d*)?"  # fraction: up to ns kept, finer digits dropped
    r"\s?(Z|z|[+-]\d\d(?::?\d\d)?|UTC)?$"
)
_SECOND_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 4096


def parse_iso8601(text: str) -> int | None:
    """ns since epoch for an ISO 8601 / RFC 3339 timestamp; naive times are taken as UTC. None if not one."""
    match = _ISO.match(text)
    if match is None:
        return None
    prefix = text[:19]
    seconds = _SECOND_CACHE.get(prefix)
    if seconds is None:
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
            return None
        # year 0 is no calendar's (timegm raises): a time before the range, as the parsers' boundary reads it
        seconds = (
            calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
            if year
            else EARLIEST_NS // NS_PER_SECOND - 1
        )
        if len(_SECOND_CACHE) >= _CACHE_LIMIT:
            _SECOND_CACHE.clear()
        _SECOND_CACHE[prefix] = seconds
    fraction, zone = match.group(7), match.group(8)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    if zone and zone not in ("Z", "z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) >= 4 else 0)
        seconds -= sign * offset
    return seconds * NS_PER_SECOND + nanos


def parse_docker_time(text: str) -> int | None:
    """Docker's own RFC 3339 form, `2026-11-27T09:01:54.123456789Z` (nine fraction digits, UTC): read by slicing,
    with the general parser for anything else. It runs on every line a follower reads."""
    if len(text) == 30 and text[19] == "." and text[29] == "Z":
        seconds = _SECOND_CACHE.get(text[:19])
        fraction = text[20:29]
        if seconds is not None and fraction.isdigit():
            return seconds * NS_PER_SECOND + int(fraction)
    return parse_iso8601(text)


def epoch_to_ns(value: float) -> int | None:
    """ns for a number that is epoch seconds, ms, µs or ns, told apart by magnitude (years 1973-2286). The
    result may be out of range (`in_range`), infinity too (past either end); NaN is no time (None)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else (LATEST_NS if value > 0 else EARLIEST_NS - 1)
    magnitude = abs(value)
    if magnitude >= 1e17:
        return int(value)
    if magnitude >= 1e14:
        return int(value * 1_000)
    if magnitude >= 1e11:
        return int(value * 1_000_000)
    if magnitude >= 1e8:
        return int(value * NS_PER_SECOND)
    return None


def parse_timestamp(value: object) -> int | None:
    """ns for whatever a JSON logger put in its time field: epoch number, numeric string or ISO 8601."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return epoch_to_ns(value)
    if isinstance(value, str) and value:
        if value[0].isdigit() and len(value) >= 19 and value[4] == "-":
            return parse_iso8601(value)
        try:
            return epoch_to_ns(float(value))
        except ValueError:
            return None
    return None
