"""Turn a decoded key/value record (a JSON object, a logfmt line) into an Event, whatever logger wrote it.

Each normalised attribute is taken from the first key present in its alias list; everything else stays in
`fields` untouched, so structlog, pino, bunyan and NestJS JSON all round-trip without losing a key.
"""

from __future__ import annotations

from typing import Any

import orjson

from logpipe.event import Event, Origin
from logpipe.parsers.levels import normalize_level
from logpipe.times import parse_timestamp

# Order matters: the first key present wins. structlog calls its message "event"; ECS uses "event" for an
# object, which is why a non-string "event" is left in the fields.
MESSAGE_KEYS = ("message", "msg", "event", "@message", "text")
LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "log.level", "loglevel")
TIME_KEYS = ("time", "timestamp", "ts", "@timestamp", "datetime")
LOGGER_KEYS = ("context", "logger", "logger_name", "name")


def event_from_record(
    record: dict[str, Any],
    parser: str,
    line: str,
    origin: Origin,
    docker_time: int | None,
    arrival: int,
) -> Event:
    """Build the Event; `record` is consumed (normalised keys are popped from it) and becomes the fields."""
    message = ""
    for key in MESSAGE_KEYS:
        if key in record:
            value = record[key]
            if isinstance(value, str):
                message = record.pop(key)
                break
            if key != "event" and value is not None:
                # NestJS logs objects as the message: keep the object, and its JSON as the text to match
                message = orjson.dumps(value, default=str).decode()
                break

    level = None
    for key in LEVEL_KEYS:
        if key in record:
            level = normalize_level(record[key])
            if level is not None:
                del record[key]
            break

    log_time = None
    for key in TIME_KEYS:
        if key in record:
            log_time = parse_timestamp(record[key])
            if log_time is not None:
                del record[key]
            break

    logger = ""
    for key in LOGGER_KEYS:
        value = record.get(key)
        if isinstance(value, str):
            logger = record.pop(key)
            break

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
