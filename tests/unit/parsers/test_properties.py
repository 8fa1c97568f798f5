"""Property tests: no input makes the parsing stage raise, and every input line is accounted for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from logpipe.event import RawLine
from logpipe.parsers import Assembler, Limits
from tests.unit.parsers.helpers import ARRIVAL, STDERR, STDOUT

# Lines built from the pieces real logs are made of, so the interesting branches are reached, plus raw bytes.
pieces = st.sampled_from(
    [
        "[Nest] 1  - 11/27/2026, 9:00:00 AM   ERROR [X] ",
        "\x1b[31m",
        "\x1b[38;5;1m",
        "{",
        "}",
        '{"level":50,"msg":"m"}',
        "    at f (a.js:1:1)",
        "Error: ",
        "Caused by: ",
        "Traceback (most recent call last):",
        "level=error msg=x ",
        "2026-11-27T09:00:00Z ",
        "ERROR ",
        "[ioredis] ",
        " ",
        "\t",
        "\r",
        "\u202f",
        "é",
        "\ufffd",
    ]
)
text_lines = st.lists(pieces, max_size=6).map("".join).map(str.encode)
raw_bytes = st.binary(max_size=300)
lines = st.lists(st.tuples(st.one_of(text_lines, raw_bytes), st.booleans(), st.booleans()), max_size=40)


@settings(max_examples=300, deadline=None)
@given(lines)
def test_any_input_parses_and_every_line_is_accounted_for(items: list[tuple[bytes, bool, bool]]) -> None:
    assembler = Assembler(limits=Limits(max_line_bytes=200, max_group_lines=3, max_group_bytes=120))
    events = []
    logical_lines = 0
    for data, on_stderr, partial in items:
        line = data.replace(b"\n", b" ")
        events.extend(assembler.feed(RawLine(line, STDERR if on_stderr else STDOUT, partial=partial), ARRIVAL))
        logical_lines += not partial
    events.extend(assembler.flush())
    # a trailing run of partial chunks on a stream is one more line, flushed at the end
    for origin in (STDOUT, STDERR):
        run = [p for d, e, p in items if (STDERR if e else STDOUT) is origin]
        if run and run[-1]:
            logical_lines += 1
    assert sum(event.lines for event in events) == logical_lines
    for event in events:
        assert event.level in ("debug", "info", "warning", "error", "critical")
        assert isinstance(event.message, str)
        event.to_json()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_line_becomes_exactly_one_event(text: str) -> None:
    line = text.replace("\n", " ").replace("\r", " ")
    assembler = Assembler()
    events = [*assembler.feed(RawLine(line.encode("utf-8", "surrogatepass"), STDOUT), ARRIVAL), *assembler.flush()]
    assert len(events) == 1
    assert events[0].lines == 1
