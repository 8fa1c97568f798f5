"""Feed text lines through the real Assembler, as a source would, and collect the events."""

from __future__ import annotations

from collections.abc import Iterable

from logpipe.event import Event, Origin, RawLine
from logpipe.parsers import Assembler, Limits

STDOUT = Origin("docker", "clipforge-api", "stdout", "c0ffee")
STDERR = Origin("docker", "clipforge-api", "stderr", "c0ffee")
ARRIVAL = 1_795_770_000_000_000_000  # 2026-11-27T09:00:00Z


def parse(lines: Iterable[str | bytes | RawLine], origin: Origin = STDOUT, limits: Limits | None = None) -> list[Event]:
    assembler = Assembler(limits=limits)
    events: list[Event] = []
    for line in lines:
        raw = line if isinstance(line, RawLine) else RawLine(line.encode() if isinstance(line, str) else line, origin)
        events.extend(assembler.feed(raw, ARRIVAL))
    events.extend(assembler.flush())
    return events


def parse_one(line: str, origin: Origin = STDOUT) -> Event:
    events = parse([line], origin)
    assert len(events) == 1, events
    return events[0]
