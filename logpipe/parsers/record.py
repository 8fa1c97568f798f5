"""Turn a decoded key/value record (a JSON object, a logfmt line) into an Event, whatever logger wrote it.

Each normalised attribute is taken from the first key present in its alias list; everything else stays in
`fields` untouched, so structlog, pino, bunyan and NestJS JSON all round-trip without losing a key.

Speed: one logger writes the same keys in the same order line after line, so which alias supplies each attribute
is decided once per key layout and cached (a few layouts per stream), instead of walking four alias lists per line.
"""

from __future__ import annotations

from typing import Any

import orjson

from logpipe.event import Event, Origin
from logpipe.parsers.levels import LEVEL_NAMES, normalize_level
from logpipe.times import parse_timestamp

# Order matters: the first key present wins. structlog calls its message "event"; ECS uses "event" for an
# object, which is why a non-string "event" is left in the fields.
MESSAGE_KEYS = ("message", "msg", "event", "@message", "text")
LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "log.level", "loglevel")
TIME_KEYS = ("time", "timestamp", "ts", "@timestamp", "datetime")
LOGGER_KEYS = ("context", "logger", "logger_name", "name")

_Layout = tuple[str | None, str | None, str | None, str | None]  # the keys for message, level, time, logger
_LAYOUTS: dict[tuple[str, ...], _Layout] = {}
_LAYOUT_LIMIT = 1024


def _first_present(aliases: tuple[str, ...], present: set[str]) -> str | None:
    return next((key for key in aliases if key in present), None)


def _layout(keys: tuple[str, ...]) -> _Layout:
    layout = _LAYOUTS.get(keys)
    if layout is None:
        present = set(keys)
        layout = (
            _first_present(MESSAGE_KEYS, present),
            _first_present(LEVEL_KEYS, present),
            _first_present(TIME_KEYS, present),
            _first_present(LOGGER_KEYS, present),
        )
        if len(_LAYOUTS) >= _LAYOUT_LIMIT:
            _LAYOUTS.clear()
        _LAYOUTS[keys] = layout
    return layout


def event_from_record(
    record: dict[str, Any],
    parser: str,
    line: str,
    origin: Origin,
    docker_time: int | None,
    arrival: int,
) -> Event:
    """Build the Event; `record` is consumed (normalised keys are popped from it) and becomes the fields."""
    message_key, level_key, time_key, logger_key = _layout(tuple(record))

    message = ""
    if message_key is not None:
        value = record[message_key]
        if type(value) is str:
            message = value
            del record[message_key]
        else:
            message = _message_fallback(record)

    level = None
    if level_key is not None:
        value = record[level_key]
        level = LEVEL_NAMES.get(value) if type(value) is str else None
        if level is None:
            level = normalize_level(value)
        if level is not None:
            del record[level_key]

    log_time = None
    if time_key is not None:
        value = record[time_key]
        # epoch milliseconds (pino, NestJS JSON) are most common: skip the general parser for them
        log_time = value * 1_000_000 if type(value) is int and 10**11 <= value < 10**14 else parse_timestamp(value)
        if log_time is not None:
            del record[time_key]

    logger = ""
    if logger_key is not None:
        value = record[logger_key]
        if type(value) is str:
            logger = value
            del record[logger_key]
        else:
            logger = _logger_fallback(record)

    return Event(
        docker_time or log_time or arrival,
        level or "info",
        message,
        logger,
        record,
        origin,
        line,
        parser,
        docker_time,
        log_time,
    )


def _message_fallback(record: dict[str, Any]) -> str:
    """The first alias holding a string; else NestJS's object message, as JSON text (the object stays in the
    fields so its keys can still be matched)."""
    for key in MESSAGE_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            return str(record.pop(key))
    for key in MESSAGE_KEYS:
        value = record.get(key)
        if key != "event" and value is not None:
            return orjson.dumps(value, default=str).decode()
    return ""


def _logger_fallback(record: dict[str, Any]) -> str:
    for key in LOGGER_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            return str(record.pop(key))
    return ""
