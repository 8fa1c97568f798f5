"""What a parser is: one small object that claims a line and builds its Event, or passes."""

from __future__ import annotations

from typing import Protocol

from logpipe.event import Event, Origin


class Parser(Protocol):
    """A parser reads one line (already decoded, ANSI codes still in) and returns an Event or None to pass.

    `first_chars` lets the detector skip a parser without calling it: a parser only ever claims lines that start
    with one of these characters (None: any line). `takes_continuation` says whether lines that follow its
    events (stack traces, object dumps) may be joined into them; single-line JSON never is.
    A parser never raises on any input.
    """

    name: str
    first_chars: str | None
    takes_continuation: bool

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event | None: ...
