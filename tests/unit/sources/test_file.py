from __future__ import annotations

import io

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
