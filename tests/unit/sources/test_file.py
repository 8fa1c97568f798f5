from __future__ import annotations

import io
import subprocess
import sys
import textwrap

from logpipe.event import Origin
from logpipe.sources.file import read_lines

ORIGIN = Origin("file", "saved.log")


def test_plain_lines_keep_their_bytes() -> None:
    raws = list(read_lines(io.BytesIO(b"one\r\ntwo\nthree"), ORIGIN))
    assert [r.data for r in raws] == [b"one\r", b"two", b"three"]
    assert all(r.docker_time is None and r.origin is ORIGIN for r in raws)


def test_docker_logs_t_prefix_gives_the_docker_time() -> None:
    raws = list(read_lines(io.BytesIO(b"2026-11-27T09:01:54.123456789Z hello\nno prefix\n"), ORIGIN))
    assert [(r.data, r.docker_time) for r in raws] == [(b"hello", 1_795_770_114_123_456_789), (b"no prefix", None)]


def test_json_file_records_keep_stream_and_partial_flag() -> None:
    data = (
        b'{"log":"part one ","stream":"stdout","time":"2026-11-27T09:01:54.000000001Z"}\n'
        b'{"log":"oops\\n","stream":"stderr","time":"2026-11-27T09:01:54.000000002Z"}\n'
        b'{"log":"part two\\n","stream":"stdout","time":"2026-11-27T09:01:54.000000001Z"}\n'
    )
    raws = list(read_lines(io.BytesIO(data), ORIGIN))
    assert [(r.data, r.origin.stream, r.partial) for r in raws] == [
        (b"part one ", "stdout", True),
        (b"oops", "stderr", False),
        (b"part two", "stdout", False),
    ]
    assert raws[0].origin is raws[2].origin  # one Origin per stream, so the assembler keys them together


def test_empty_input_gives_nothing() -> None:
    assert list(read_lines(io.BytesIO(b""), ORIGIN)) == []


def test_a_line_over_the_limit_is_cut_and_the_next_line_kept() -> None:
    data = b"short\n" + b"x" * 300_000 + b"\nafter\n"
    raws = list(read_lines(io.BytesIO(data), ORIGIN, max_line_bytes=1000))
    # one byte over the limit: the assembler cuts it to the limit and flags it truncated
    assert [r.data for r in raws] == [b"short", b"x" * 1001, b"after"]


def test_the_cut_line_is_flagged_truncated_once_parsed() -> None:
    from logpipe.parsers import Assembler, Limits
    from logpipe.pipeline import parse_lines

    data = b"x" * 300_000 + b"\nafter\n"
    events = list(
        parse_lines(
            read_lines(io.BytesIO(data), ORIGIN, max_line_bytes=1024), Assembler(limits=Limits(max_line_bytes=1024))
        )
    )
    assert [(len(e.raw), e.flags) for e in events] == [(1024, ("truncated",)), (5, ())]


def test_lines_split_across_blocks_are_whole() -> None:
    lines = [f"line {i} ".encode() * (i % 50 + 1) for i in range(5000)]
    raws = list(read_lines(io.BytesIO(b"\n".join(lines)), ORIGIN))
    assert [r.data for r in raws] == lines


def test_a_lone_cr_ends_a_line_so_levels_are_not_hidden() -> None:
    raws = list(read_lines(io.BytesIO(b"INFO started\rERROR credit deduction failed\rINFO done\r"), ORIGIN))
    assert [r.data for r in raws] == [b"INFO started", b"ERROR credit deduction failed", b"INFO done"]


def test_parse_of_an_endless_line_runs_in_constant_memory() -> None:
    """300 MB of one line through `logpipe parse -`: the child's peak RSS stays far below the line's size."""
    runner = textwrap.dedent(
        f"""
        import resource, subprocess
        child = subprocess.Popen([{sys.executable!r}, "-m", "logpipe", "parse", "--max-line-bytes", "2048", "-"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        import threading
        out = []
        reader = threading.Thread(target=lambda: out.append(child.stdout.read()))
        reader.start()
        block = bytes(1024 * 1024)
        for _ in range(300):
            child.stdin.write(block)
        child.stdin.close()
        reader.join()
        assert child.wait() == 0
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, len(out[0]))
        """
    )
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, timeout=120, check=True)
    peak_kib, output_bytes = map(int, result.stdout.split())
    assert output_bytes > 2048  # the cut line was printed
    assert peak_kib < 150_000


def test_a_json_file_record_with_values_of_the_wrong_type_is_kept_as_a_line() -> None:
    """`log`, `stream` or `time` that is not a string (a hand-edited or foreign log): the line is passed on as
    it is, for the parsers to mark, not a traceback that ends the replay."""
    records = [
        b'{"log":"ok\\n","stream":"stdout","time":"2026-11-27T09:00:00.000000001Z"}',
        b'{"log":5,"stream":"stdout","time":"2026-11-27T09:00:01Z"}',
        b'{"log":"x\\n","stream":["stdout"],"time":"2026-11-27T09:00:02Z"}',
        b'{"log":"y\\n","stream":"stderr","time":7}',
        b"[1, 2]",
    ]
    lines = list(read_lines(io.BytesIO(b"\n".join(records) + b"\n"), Origin("file", "x.log")))
    assert [line.data for line in lines] == [b"ok", *records[1:]]
    assert lines[0].docker_time == 1_795_770_000_000_000_001
