"""Docker's log stream from the Engine API, read in large chunks and split into lines with their stream.

A non-TTY container's stream is multiplexed: each frame is [stream (1 = stdout, 2 = stderr, 3 = an error from the
daemon), 0, 0, 0, payload size (4 bytes, big-endian)] then the payload. A TTY container's is raw, all stdout.
docker-py's `logs(stream=True)` drops the stream byte and passes daemon errors through as if they were log lines;
here they are kept apart.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

STREAMS = {1: "stdout", 2: "stderr"}
DAEMON_ERROR = 3
READ_SIZE = 256 * 1024
_HEADER = struct.Struct(">BxxxI")


END_OF_READ = (0, b"")  # yielded after each read's frames: what is buffered so far is complete


def body_reader(response: Any) -> Callable[[int], bytes]:
    """`read(n)` over a streamed `requests` response's body that returns all that has arrived (up to n bytes),
    waiting only when nothing has. The daemon sends the log as HTTP chunks, one per frame, so one per line, and
    urllib3's and http.client's read1 return one chunk per call: each line then became a read, a batch and a
    hand-over between threads of its own (the API path ran at 20,000 lines/s). Here the socket's buffer is read
    whole and the chunk framing taken off below. (h11 does chunked decoding too, at about 6 µs per chunk here:
    more than the rest of a line's handling.)"""
    message = getattr(response.raw, "_fp", None)  # http.client.HTTPResponse: headers read, body untouched
    socket_file = getattr(message, "fp", None)  # its buffered socket reader (holds any bytes read past the headers)
    if not getattr(message, "chunked", False) or socket_file is None:  # not chunked, or urllib3 changed inside
        read1: Callable[[int], bytes] = response.raw.read1
        return read1
    decoder = ChunkedDecoder()

    def read(size: int) -> bytes:
        while not decoder.done:
            data = socket_file.read1(size)
            if not data:
                return b""  # the connection closed: the stream ended (or dropped; the reader asks the daemon)
            body = decoder.feed(data)
            if body:
                return body
        return b""

    return read


class ChunkedDecoder:
    """HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1) taken off bytes as they arrive, in any pieces:
    `feed(data)` returns the body bytes they complete; `done` after the last (zero-size) chunk."""

    def __init__(self) -> None:
        self.done = False
        self._data_left = 0  # bytes of the current chunk's data still to come
        self._skip = 0  # bytes of the CRLF after a chunk's data still to skip
        self._pending = b""  # the start of a chunk-size line cut off by the end of a read

    def feed(self, data: bytes) -> bytes:
        if self._pending:
            data, self._pending = self._pending + data, b""
        out: list[bytes] = []
        position, end = 0, len(data)
        while position < end and not self.done:
            if self._data_left:
                take = min(self._data_left, end - position)
                out.append(data[position : position + take])
                position += take
                self._data_left -= take
                if not self._data_left:
                    self._skip = 2
            elif self._skip:
                step = min(self._skip, end - position)
                position += step
                self._skip -= step
            else:
                line_end = data.find(b"\r\n", position)
                if line_end < 0:
                    self._pending = data[position:]
                    if len(self._pending) > 1024:
                        raise ConnectionError("malformed chunked HTTP body: no chunk size line")
                    break
                size_text = data[position:line_end].split(b";", 1)[0].strip()  # chunk extensions are ignored
                try:
                    size = int(size_text, 16)
                except ValueError:
                    size = -1
                if size < 0 or not size_text.isalnum():  # int() also takes "-5", "+5" and "1_0": a negative size
                    # walked the decoder backwards, over the same bytes again and again (found by bench/fuzz.py)
                    raise ConnectionError(f"malformed chunked HTTP body: chunk size {size_text[:20]!r}") from None
                position = line_end + 2
                if size == 0:
                    self.done = True  # the last chunk (trailers, if any, are not read: the response is closed)
                self._data_left = size
        return out[0] if len(out) == 1 else b"".join(out)


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
