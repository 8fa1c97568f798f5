"""Durations in rule files: a number with a unit (`500ms`, `30s`, `5m`, `1h`, `2d`), as ns. A bare number is
refused: "5" could mean seconds or minutes, and a window must never be guessed."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_NS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
DURATION_PATTERN = r"^\d+(\.\d+)?(ms|s|m|h|d)$"


def parse_duration(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a duration like '5m', got {value!r}")
    match = _DURATION.fullmatch(str(value).strip())
    if match is None:
        hint = " (needs a unit: ms, s, m, h or d)" if isinstance(value, (int, float)) or str(value).isdigit() else ""
        raise ValueError(f"expected a duration like '30s' or '5m', got {value!r}{hint}")
    nanos = int(float(match.group(1)) * _UNIT_NS[match.group(2)])
    if nanos <= 0:
        raise ValueError("a duration must be more than zero")
    return nanos


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
