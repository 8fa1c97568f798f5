from __future__ import annotations

from logpipe.event import RawLine
from logpipe.parsers import Assembler, Limits
from tests.unit.parsers.helpers import ARRIVAL, STDERR, STDOUT, parse

NEST_ERROR = "[Nest] 1  - 11/27/2026, 9:00:00 AM   ERROR [CreditsService] Credit deduction failed"


def test_python_traceback_is_joined_with_its_last_line() -> None:
    lines = [
        "2026-11-27 09:00:00 ERROR [worker] render failed",
        "Traceback (most recent call last):",
        '  File "/app/render.py", line 12, in run',
        "    clip.render()",
        "ValueError: bad codec",
        "2026-11-27 09:00:01 INFO [worker] next",
    ]
    first, second = parse(lines)
    assert first.stack == "\n".join(lines[1:5])
    assert (first.lines, second.message) == (5, "next")


def test_caused_by_chain_stays_in_the_stack() -> None:
    lines = [NEST_ERROR, "Error: outer", "    at a (a.js:1:1)", "Caused by: Error: inner", "    at b (b.js:2:2)"]
    (event,) = parse(lines)
    assert event.stack == "\n".join(lines[1:])


def test_exception_line_after_an_info_line_starts_a_new_event() -> None:
    events = parse(["[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG [App] started", "Error: something else"])
    assert [e.message for e in events] == ["started", "Error: something else"]


def test_interleaved_stdout_and_stderr_are_grouped_per_stream() -> None:
    lines = [
        RawLine(NEST_ERROR.encode(), STDERR),
        RawLine(b'{"level":"info","msg":"request done"}', STDOUT),
        RawLine(b"Error: deadlock detected", STDERR),
        RawLine(b"[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG [HTTP] GET / 200 1ms", STDOUT),
        RawLine(b"    at CreditsService.deduct (credits.js:74:13)", STDERR),
    ]
    events = parse(lines)
    by_message = {e.message: e for e in events}
    assert set(by_message) == {"Credit deduction failed", "request done", "GET / 200 1ms"}
    assert (
        by_message["Credit deduction failed"].stack
        == "Error: deadlock detected\n    at CreditsService.deduct (credits.js:74:13)"
    )
    assert by_message["Credit deduction failed"].origin.stream == "stderr"


def test_docker_partial_chunks_are_merged_with_the_first_chunks_time() -> None:
    body = '{"level":"info","msg":"big","blob":"' + "x" * 40_000 + '"}'
    chunks = [body[i : i + 16384] for i in range(0, len(body), 16384)]
    raws = [RawLine(c.encode(), STDOUT, 1000 + i, partial=i < len(chunks) - 1) for i, c in enumerate(chunks)]
    raws.insert(1, RawLine(b"stderr line between chunks", STDERR, 1001))
    events = parse(raws)
    (big,) = [e for e in events if e.origin is STDOUT]
    assert big.fields["blob"] == "x" * 40_000
    assert (big.docker_time, big.flags) == (1000, ("partial_merged",))


def test_a_line_over_the_limit_is_truncated_and_flagged() -> None:
    (event,) = parse(["a" * 5000], limits=Limits(max_line_bytes=1024))
    assert (len(event.message), event.flags) == (1024, ("truncated",))


def test_merged_partial_chunks_over_the_limit_are_truncated() -> None:
    raws = [
        RawLine(b"b" * 1000, STDOUT, partial=True),
        RawLine(b"b" * 1000, STDOUT, partial=True),
        RawLine(b"b" * 1000, STDOUT),
    ]
    (event,) = parse(raws, limits=Limits(max_line_bytes=1500))
    assert len(event.raw) == 1500
    assert event.flags == ("partial_merged", "truncated")


def test_a_partial_line_whose_end_never_came_is_flushed_at_end_of_input() -> None:
    (event,) = parse([RawLine(b"container died mid-li", STDOUT, partial=True)])
    assert (event.message, event.flags) == ("container died mid-li", ("partial_merged", "unterminated"))


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    (event,) = parse([b"caf\xe9 ok"])
    assert (event.message, event.flags) == ("caf\ufffd ok", ("invalid_utf8",))


def test_group_caps_cut_and_count_the_rest() -> None:
    lines = [NEST_ERROR, "Error: x"] + [f"    at f{i} (x.js:{i}:1)" for i in range(20)]
    (event,) = parse(lines, limits=Limits(max_group_lines=5))
    assert event.stack is not None
    assert event.stack.count("\n") == 4
    assert (event.lines, event.flags) == (22, ("multiline_cut",))


def test_idle_flush_emits_an_open_event_only_after_the_quiet_period() -> None:
    assembler = Assembler(limits=Limits(idle_flush_ns=500_000_000))
    assert assembler.feed(RawLine(NEST_ERROR.encode(), STDOUT), ARRIVAL) == ()
    assert assembler.flush_idle(ARRIVAL + 100_000_000) == []
    (event,) = assembler.flush_idle(ARRIVAL + 600_000_000)
    assert event.message == "Credit deduction failed"
    assert assembler.flush() == []
