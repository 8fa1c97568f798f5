"""Wire the stages together: source -> assembler (partial merge, multi-line, parsers) -> events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from logpipe.event import Event, RawLine
from logpipe.parsers import Assembler


def parse_lines(lines: Iterable[RawLine], assembler: Assembler | None = None) -> Iterator[Event]:
    """Every event of a finite input, in order per stream; open multi-line events are flushed at the end."""
    assembler = assembler or Assembler()
    feed = assembler.feed
    for raw in lines:
        yield from feed(raw)
    yield from assembler.flush()
