"""JSON-object lines: NestJS JSON mode, pino / nestjs-pino, structlog, bunyan, or any logger with the usual keys."""

from __future__ import annotations

import orjson

from logpipe.event import Event, Origin
from logpipe.parsers.record import event_from_record


class JsonParser:
    name: str = "json"
    first_chars: str | None = "{"
    takes_continuation: bool = False  # one object per line: JSON streams are never joined

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if type(record) is not dict:
            return None
        return event_from_record(record, self.name, line, origin, docker_time, arrival)
