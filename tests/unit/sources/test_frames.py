"""The Engine API stream's layers without a daemon: HTTP chunked coding, Docker's frames, timestamped lines.
(Every Docker test runs them against a real daemon too, on the API read path.)"""

from __future__ import annotations

import struct

import pytest

from logpipe.sources.docker.frames import ChunkedDecoder, frames, timestamped_lines


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def test_a_chunked_body_cut_at_every_byte_decodes_to_the_same_body() -> None:
    pieces = [b"2026-11-27T09:00:00.000000001Z line one\n", b"x" * 300, b"\r\n inside data \r\n", b"last"]
    wire = chunked(*pieces)
    for cut in range(1, len(wire)):
        decoder = ChunkedDecoder()
        body = decoder.feed(wire[:cut]) + decoder.feed(wire[cut:])
        assert body == b"".join(pieces), cut
        assert decoder.done


def test_a_body_fed_byte_by_byte_and_chunk_extensions() -> None:
    wire = b"5;name=value\r\nhello\r\n1\r\n!\r\n0\r\n\r\n"
    decoder = ChunkedDecoder()
    assert b"".join(decoder.feed(wire[i : i + 1]) for i in range(len(wire))) == b"hello!"
    assert decoder.done


def test_many_chunks_in_one_read_come_out_as_one_piece() -> None:
    """The point of decoding here: a read holding 1,000 one-line chunks gives the frame parser one piece."""
    lines = [frame(1, b"2026-11-27T09:00:00.%09dZ line %d\n" % (i, i)) for i in range(1000)]
    decoder = ChunkedDecoder()
    body = decoder.feed(chunked(*lines))
    reads = iter([body, b""])
    items = list(timestamped_lines(frames(lambda size: next(reads), tty=False)))
    assert [item for item in items if item[0] == 0] == [(0, b"", False)]  # one end-of-read: one batch
    assert [text for stream, text, _ in items if stream == 1] == [
        b"2026-11-27T09:00:00.%09dZ line %d" % (i, i) for i in range(1000)
    ]


def test_a_malformed_chunk_size_is_a_connection_error_not_a_crash() -> None:
    with pytest.raises(ConnectionError, match="chunk size"):
        ChunkedDecoder().feed(b"zz\r\nhello\r\n")


@pytest.mark.parametrize("size", [b"-5", b"-ffffffff", b"+5", b"1_0"])
def test_a_chunk_size_int_would_take_but_http_does_not_is_refused(size: bytes) -> None:
    # a negative size walked the decoder backwards over the same bytes for as long as its magnitude (bench/fuzz.py)
    with pytest.raises(ConnectionError, match="malformed chunked HTTP body: chunk size"):
        ChunkedDecoder().feed(size + b"\r\nabc\r\n0\r\n\r\n")
