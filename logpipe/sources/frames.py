"""Docker's log stream from the Engine API, read in large chunks and split into lines with their stream.

A non-TTY container's stream is multiplexed: each frame is [stream (1 = stdout, 2 = stderr, 3 = an error from the
daemon), 0, 0, 0, payload size (4 bytes, big-endian)] then the payload. A TTY container's is raw, all stdout.
docker-py's `logs(stream=True)` drops the stream byte and passes daemon errors through as if they were log lines;
here they are kept apart.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

STREAMS = {1: "stdout", 2: "stderr"}
DAEMON_ERROR = 3
READ_SIZE = 256 * 1024
_HEADER = struct.Struct(">BxxxI")


END_OF_READ = (0, b"")  # yielded after each read's frames: what is buffered so far is complete


def frames(read: Callable[[int], bytes], tty: bool) -> Iterator[tuple[int, bytes]]:
    """(stream id, payload) per frame, until the stream ends; `read(n)` returns up to n bytes, b"" at the end.
    END_OF_READ follows the frames of each read, so a consumer can pass lines on in batches without waiting."""
    buffer = b""
    while True:
        chunk = read(READ_SIZE)
        if not chunk:
            return
        if tty:
            yield 1, chunk
            yield END_OF_READ
            continue
        buffer += chunk
        offset = 0
        while len(buffer) - offset >= 8:
            stream, size = _HEADER.unpack_from(buffer, offset)
            if len(buffer) - offset - 8 < size:
                break
            yield stream, buffer[offset + 8 : offset + 8 + size]
            offset += 8 + size
        buffer = buffer[offset:]
        yield END_OF_READ


def timestamped_lines(payloads: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes, bool]]:
    """(stream id, "<RFC 3339 timestamp> <text>" without its newline, partial?) per log line. A payload may hold
    several lines; one without a final newline is a partial chunk of a longer line (Docker splits at 16 KiB).
    TTY streams can cut a line anywhere: the cut piece waits for the rest."""
    pending: dict[int, bytes] = {}
    for stream, payload in payloads:
        if stream == 0:  # END_OF_READ: pass the boundary on
            yield 0, b"", False
            continue
        if stream == DAEMON_ERROR:
            yield stream, payload, False
            continue
        data = pending.pop(stream, b"") + payload
        lines = data.split(b"\n")
        for line in lines[:-1]:
            yield stream, line, False
        if lines[-1]:
            yield stream, lines[-1], True
