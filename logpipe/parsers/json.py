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
            # a raw control character (a NUL a program wrote into a string) makes the record invalid JSON, and
            # its level would be lost with it: read it again with those characters escaped
            escaped = _escape_controls(line)
            if escaped is line:
                return None
            try:
                record = orjson.loads(escaped)
            except orjson.JSONDecodeError:
                return None
        if type(record) is not dict:
            return None
        return event_from_record(record, self.name, line, origin, docker_time, arrival)


_CONTROLS = {chr(code): f"\\u{code:04x}" for code in range(0x20) if chr(code) not in "\t"}


def _escape_controls(line: str) -> str:
    """`line` with raw control characters (but tab) as JSON escapes; `line` itself when it has none."""
    if not any(character in line for character in _CONTROLS):
        return line
    return "".join(_CONTROLS.get(character, character) for character in line)
