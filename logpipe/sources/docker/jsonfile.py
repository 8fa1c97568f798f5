"""A container's log read straight from Docker's json-file log (`/var/lib/docker/containers/<id>/<id>-json.log`
and its rotations), as Fluent Bit and Filebeat do, when logpipe runs on the Docker host and may read it.

It yields what the Engine API read yields, in the same order: the lines with a Docker timestamp at or after
`since`, each as (stream id, Docker time in ns, text without its newline, partial?), and END_OF_READ after each
read. The reader's skip-what-was-handled logic runs on it unchanged, so checkpoints and the exactly-once
guarantee are the same; only the transport differs (no HTTP, no framing, no daemon CPU per line).

Each read (up to 1 MiB) is decoded in one call: by the C decoder (_jsonfile.c) where setup.py built it, which
takes the records in dockerd's own shape and hands every other one to `decode_record`, the Python decoder, so
both give the same lines; `decode_buffer_python` is the reference, and the decoder of a pure install.

Following: at the end of the file it polls (every 50 ms; the container's state every half second). A rotation
(the file renamed and a new one created) is noticed by the inode: the old file is read to its end first, then
the new one from its start. A file cut back to zero (json-file with max-file 1) is read again from its start.
"""

from __future__ import annotations

import glob
import gzip
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol

import orjson

from logpipe.times import parse_docker_time

READ_SIZE = 1 << 20
POLL = 0.05
STATE_EVERY = 0.5
END = (0, 0, b"", False)  # after each read: what was yielded so far can be handed over
SKIPPED = -1  # a stream id that is no stream: an input not passed on, its reason as the text (counted by the reader)
TORN = (SKIPPED, 0, b"torn json-file record", False)
_STREAM_IDS = {"stdout": 1, "stderr": 2}
FileLine = tuple[int, int, bytes, bool]
RecordDecoder = Callable[[bytes, int], FileLine | None]
BufferDecoder = Callable[[bytes, int, int, RecordDecoder], list[FileLine]]


def decode_record(line: bytes, since: int) -> FileLine | None:
    """One json-file record as a FileLine; None when its time is before `since` (or not a time at all), TORN when
    it is not a json-file entry (a torn write after a crash: Docker's own reader skips it too)."""
    try:
        entry = orjson.loads(line)  # orjson.JSONDecodeError is a ValueError, as is a year 0 in the time
        time_ns = parse_docker_time(entry["time"])
        text = entry["log"]
        stream = _STREAM_IDS.get(entry.get("stream", ""), 1)
    except (ValueError, KeyError, TypeError, AttributeError):
        return TORN
    if not isinstance(text, str):
        return TORN
    if time_ns is None or time_ns < since:
        return None
    partial = not text.endswith("\n")
    return (stream, time_ns, (text if partial else text[:-1]).encode(), partial)


def decode_buffer_python(chunk: bytes, end: int, since: int, fallback: RecordDecoder = decode_record) -> list[FileLine]:
    """The records of chunk[:end] (lines split on \\n), decoded by `fallback` one by one: the reference the C
    decoder is held to, with its signature."""
    decoded: list[FileLine] = []
    for line in chunk[:end].split(b"\n"):
        item = fallback(line, since)
        if item is not None:
            decoded.append(item)
    return decoded


def _fastest_decoder() -> BufferDecoder:
    try:  # built with the mypyc modules (setup.py, LOGPIPE_COMPILE=1); a pure install has only the Python decoder
        from logpipe.sources.docker._jsonfile import decode_buffer as compiled
    except ImportError:
        return decode_buffer_python
    return compiled


#: what _read_to_end decodes each read with
decode_buffer = _fastest_decoder()


def compiled_line_decoder() -> Callable[[bytes], FileLine | None] | None:
    """The C decoder of one record (a trailing newline ignored) for a reader that goes line by line (a saved
    log: sources/file.py): its FileLine when it is in dockerd's own shape, else None (decode it in Python). None
    itself on a pure install."""
    try:
        from logpipe.sources.docker._jsonfile import decode_line
    except ImportError:
        return None
    return decode_line


class _Source(Protocol):  # a plain or a gzip file
    def tell(self) -> int: ...

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def readable_log_file(info: dict[str, Any]) -> str | None:
    """The container's json-file log path when logpipe may read it directly, else None (another log driver,
    Docker on another host, or no permission: the Engine API is used)."""
    log_config = (info.get("HostConfig") or {}).get("LogConfig") or {}
    path = info.get("LogPath") or ""
    if log_config.get("Type") != "json-file" or not path:
        return None
    return path if os.access(path, os.R_OK) else None


def rotated_files(path: str) -> list[str]:
    """The rotated files of a json-file log, oldest first (`-json.log.3[.gz]`, ..., `-json.log.1`)."""

    def number(name: str) -> int:
        suffix = name[len(path) + 1 :].removesuffix(".gz")
        return int(suffix) if suffix.isdigit() else -1

    found = [name for name in glob.glob(glob.escape(path) + ".*") if number(name) > 0]
    return sorted(found, key=number, reverse=True)


def json_file_lines(
    path: str, since: int, follow: bool, running: Callable[[], bool], stopping: threading.Event
) -> Iterator[FileLine]:
    """The log's lines from `since` (ns, inclusive, as Docker's own `since`), following while `running()`."""
    for rotated in rotated_files(path):
        opener = gzip.open if rotated.endswith(".gz") else open
        try:
            with opener(rotated, "rb") as old:
                yield from _read_to_end(old, since, stopping)
        except FileNotFoundError:  # rotated away (deleted past max-file) while we were getting to it
            continue
    try:
        current: IO[bytes] = open(path, "rb")  # noqa: SIM115 - reopened on rotation, closed in the finally
    except FileNotFoundError:
        return
    try:
        yield from _read_to_end(current, since, stopping)
        checked = time.monotonic()
        while follow and not stopping.is_set():
            replaced = _replaced(path, current)
            if replaced is not None:
                yield from _read_to_end(current, since, stopping)  # the rotated file's last lines first
                current.close()
                current = replaced
            elif os.fstat(current.fileno()).st_size < current.tell():
                current.seek(0)  # cut back in place (max-file 1): what is there now is new
            elif time.monotonic() - checked >= STATE_EVERY:
                checked = time.monotonic()
                if not running():
                    stopping.wait(POLL)  # the daemon writes a stopped container's last lines before it says so
                    yield from _read_to_end(current, since, stopping)
                    return
            if not _has_more(current):
                stopping.wait(POLL)
                continue
            yield from _read_to_end(current, since, stopping)
    finally:
        current.close()


def _replaced(path: str, current: IO[bytes]) -> IO[bytes] | None:
    """The new file at `path` if the one we read was rotated away, else None."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return None
    if now.st_ino == os.fstat(current.fileno()).st_ino:
        return None
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _has_more(current: IO[bytes]) -> bool:
    return os.fstat(current.fileno()).st_size > current.tell()


def _read_to_end(source: _Source, since: int, stopping: threading.Event) -> Iterator[FileLine]:
    """Whole lines until the end of what is written; a line still being written waits (the file position is
    put back to its start, so the next read gets it whole)."""
    while not stopping.is_set():
        start = source.tell()
        chunk = source.read(READ_SIZE)
        if not chunk:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) < READ_SIZE:
                source.seek(start)  # one unfinished line: wait for the rest
                return
            chunk = chunk + source.readline()  # one line longer than a read: finish it
            end = len(chunk) - 1
            if not chunk.endswith(b"\n"):
                source.seek(start)
                return
        elif end + 1 < len(chunk):
            source.seek(start + end + 1)
        yield from decode_buffer(chunk, end, since, decode_record)
        yield END
