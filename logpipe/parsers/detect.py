"""Pick the parser for a line: a table from a line's first character to the parsers that may claim it."""

from __future__ import annotations

from collections.abc import Sequence

from logpipe.event import UNPARSED, Event, Origin, representable
from logpipe.parsers.base import Parser
from logpipe.parsers.json import JsonParser
from logpipe.parsers.nest import NestTextParser
from logpipe.parsers.text import LogfmtParser, PlainParser, TextParser


def default_parsers() -> tuple[Parser, ...]:
    return (JsonParser(), NestTextParser(), LogfmtParser(), TextParser(), PlainParser())


class Detector:
    """Tries, in their configured order, only the parsers that may claim a line; PlainParser always ends."""

    def __init__(self, parsers: Sequence[Parser] | None = None) -> None:
        chain = list(parsers if parsers is not None else default_parsers())
        if not any(isinstance(parser, PlainParser) for parser in chain):
            chain.append(PlainParser())
        self._any_line = tuple(parser for parser in chain if parser.first_chars is None)
        starts = {char for parser in chain for char in parser.first_chars or ""}
        self._by_first_char = {
            char: tuple(p for p in chain if p.first_chars is None or char in p.first_chars) for char in starts
        }
        #: names of parsers whose events may take continuation lines (stack traces, object dumps)
        self.continuable = frozenset(parser.name for parser in chain if parser.takes_continuation)

    def parse(self, line: str, origin: Origin, docker_time: int | None, arrival: int) -> Event:
        for parser in self._by_first_char.get(line[:1], self._any_line):
            try:
                event = parser.parse(line, origin, docker_time, arrival)
            except Exception as error:  # design.md's per-line boundary: a parser's bug loses no line
                return _parser_failed(line, origin, docker_time, arrival, f"{parser.name}: {type(error).__name__}")
            if event is not None:
                return representable(event, arrival)  # a time or nesting no output could write: never past here
        raise AssertionError("PlainParser claims every line")  # pragma: no cover


def _parser_failed(line: str, origin: Origin, docker_time: int | None, arrival: int, why: str) -> Event:
    """The line as it came, flagged `parser_error` (counted like every flag), instead of a crash."""
    event = PlainParser().parse(line, origin, docker_time, arrival)
    assert event is not None
    return event._replace(parser=UNPARSED, flags=("parser_error",), fields={"parser_error": why})
