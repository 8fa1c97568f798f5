"""Durations in rule files: a number with a unit (`500ms`, `30s`, `5m`, `1h`, `2d`), as ns. A bare number is
refused: "5" could mean seconds or minutes, and a window must never be guessed. So is one past MAX_DURATION (ten
years): a time plus a duration must stay a time logpipe can hold (times.py), and `999999999999d` passed every
check, then crashed the follower at its first notification, and again after each restart."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_NS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
DURATION_PATTERN = r"^\d+(\.\d+)?(ms|s|m|h|d)$"
MAX_DURATION = 3650 * _UNIT_NS["d"]
MAX_SHOWN = "3650d (ten years)"


class DurationTooLong(ValueError):
    """A duration written right, but past MAX_DURATION."""


def parse_duration(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a duration like '5m', got {value!r}")
    match = _DURATION.fullmatch(str(value).strip())
    if match is None:
        hint = " (needs a unit: ms, s, m, h or d)" if isinstance(value, (int, float)) or str(value).isdigit() else ""
        raise ValueError(f"expected a duration like '30s' or '5m', got {value!r}{hint}")
    amount = float(match.group(1)) * _UNIT_NS[match.group(2)]  # inf for 400 digits: refused below, no OverflowError
    if not amount <= MAX_DURATION:
        raise DurationTooLong(f"a duration may be at most {MAX_SHOWN}, got {_shown(value)}")
    nanos = int(amount)
    if nanos <= 0:
        raise ValueError("a duration must be more than zero")
    return nanos


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text) - 2} characters)"


def format_duration(nanos: int) -> str:
    """`5m`, `1h30m`, `1m32.5s`: the largest units first, as people say it."""
    if nanos < _UNIT_NS["s"]:
        return f"{nanos / 1e6:g}ms"
    parts, rest = [], nanos
    for unit in ("d", "h", "m"):
        count, rest = divmod(rest, _UNIT_NS[unit])
        if count:
            parts.append(f"{count}{unit}")
    if rest:
        parts.append(f"{rest / _UNIT_NS['s']:g}s")
    return "".join(parts)
