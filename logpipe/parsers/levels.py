"""Level names and numbers of every logger we read, mapped to logpipe's five levels."""

from __future__ import annotations

_NAMES = {
    "trace": "debug",
    "debug": "debug",
    "verbose": "debug",  # NestJS
    "info": "info",
    "log": "info",  # NestJS
    "notice": "info",
    "information": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "err": "error",
    "fatal": "critical",
    "critical": "critical",
    "crit": "critical",
    "alert": "critical",
    "emerg": "critical",
    "emergency": "critical",
    "panic": "critical",
    "severe": "error",
}
# Both cases up front: a dict hit costs less than lower() on every line.
LEVEL_NAMES: dict[str, str] = {**_NAMES, **{k.upper(): v for k, v in _NAMES.items()}}

# pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
_PINO = ((60, "critical"), (50, "error"), (40, "warning"), (30, "info"))


def normalize_level(value: object) -> str | None:
    """logpipe's level for a logger's level value, or None when the value names no level."""
    if isinstance(value, str):
        return LEVEL_NAMES.get(value) or LEVEL_NAMES.get(value.strip().lower())
    if isinstance(value, int) and not isinstance(value, bool):
        for threshold, name in _PINO:
            if value >= threshold:
                return name
        return "debug"
    return None
