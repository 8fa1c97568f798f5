"""Read a saved log (a file or stdin) as RawLines, in whichever of three shapes it was saved:

- plain lines, as an application printed them;
- `docker logs -t` output: each line prefixed with its RFC 3339 nanosecond Docker timestamp and a space;
- Docker's json-file log (`{"log":"...\\n","stream":"stderr","time":"..."}` per line), which also carries the
  stream and marks 16 KiB partial chunks by the missing trailing newline.

The shape is sniffed once, from the first line, so plain files pay nothing per line.

Lines are read in 64 KiB blocks and never held whole past `max_line_bytes`: a longer line keeps its first
`max_line_bytes + 1` bytes (the assembler cuts it to the limit and flags it `truncated`) and the rest is skipped
as it is read, so `logpipe parse /dev/zero` runs in constant memory. A lone CR (old Mac line endings, or a
progress bar's redraw) ends a line too, so records behind one are not hidden inside their neighbour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO

import orjson

from logpipe.event import Origin, RawLine
from logpipe.sources.docker.jsonfile import compiled_line_decoder
from logpipe.times import parse_iso8601

_DOCKER_PREFIX = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) ")

_LONE_CR = re.compile(rb"\r(?!\n)")
_DOCKERD_RECORD = compiled_line_decoder()  # a json-file record in dockerd's own shape, decoded in C; None: pure
_BLOCK = 64 * 1024
DEFAULT_MAX_LINE_BYTES = 1024 * 1024  # the assembler's default limit (parsers.Limits)

ProgressCallback = Callable[[int], None]  # called with the bytes read so far, every few thousand lines


def origin_of(source: BinaryIO, source_name: str | None = None) -> Origin:
    """Where lines come from, spelled the same whatever the command line said: a file by its real absolute path
    (`app.log`, `./app.log` and a symlink to it are one source, so a replay gives the same alert ids), stdin as
    `stdin` or the name given (say, the path of the file being piped in)."""
    name = getattr(source, "name", "-")
    if name in ("-", "<stdin>") or not isinstance(name, str):
        return Origin(source="stdin", name=source_name or "stdin")
    return Origin(source="file", name=source_name or os.path.realpath(name))


def read_lines(
    stream: BinaryIO,
    origin: Origin,
    progress: ProgressCallback | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[RawLine]:
    bounded = bounded_lines(stream, max_line_bytes)
    lines: Iterable[bytes] = bounded if progress is None else _with_progress(bounded, progress)
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    if first.startswith(b'{"log":'):
        yield from _json_file_lines(_chain(first, iterator), origin)
    elif _DOCKER_PREFIX.match(first):
        yield from _prefixed_lines(_chain(first, iterator), origin)
    else:
        yield RawLine(_chomp(first), origin)
        for line in iterator:
            yield RawLine(line[:-1] if line.endswith(b"\n") else line, origin)


def _chomp(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\n") else line


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _prefixed_lines(lines: Iterable[bytes], origin: Origin) -> Iterator[RawLine]:
    for line in lines:
        match = _DOCKER_PREFIX.match(line)
        if match is None:  # a line without the prefix: keep it, with no Docker time
            yield RawLine(_chomp(line), origin)
            continue
        stamp = parse_iso8601(match.group(1).decode())
        yield RawLine(_chomp(line[match.end() :]), origin, stamp)


def _json_file_lines(lines: Iterable[bytes], origin: Origin) -> Iterator[RawLine]:
    by_stream: dict[str, Origin] = {}
    decode = _DOCKERD_RECORD
    for line in lines:
        decoded = decode(line) if decode is not None else None
        if decoded is not None:  # the values the lines below would make of it (the differential tests check)
            stream_name = "stderr" if decoded[0] == 2 else "stdout"
            docker_time: int | None = decoded[1]
            data, partial = decoded[2], decoded[3]
        else:
            try:
                record = orjson.loads(line)
                text, stream_name, stamp = record["log"], record.get("stream", ""), record.get("time", "")
                if not (isinstance(text, str) and isinstance(stream_name, str) and isinstance(stamp, str)):
                    raise TypeError("not a json-file record's types")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                yield RawLine(_chomp(line), origin)  # not a json-file record: the parsers will mark it
                continue
            partial = not text.endswith("\n")
            data = (text if partial else text[:-1]).encode()
            docker_time = parse_iso8601(stamp) if stamp else None
        stream_origin = by_stream.get(stream_name)
        if stream_origin is None:
            stream_origin = by_stream[stream_name] = replace(origin, stream=stream_name)
        yield RawLine(data, stream_origin, docker_time, partial)


def bounded_lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[bytes]:
    """The stream's lines, each with its newline (the last may have none), a line longer than `max_line_bytes`
    cut to `max_line_bytes + 1` bytes without newline; memory stays within a block and one cut line."""
    read: Callable[[int], bytes] = getattr(stream, "read1", stream.read)  # read1: what a pipe has, without waiting
    keep = max_line_bytes + 1
    head: list[bytes] = []  # the start of the current line, from earlier blocks
    head_size = 0
    while True:
        block = read(_BLOCK)
        if not block:
            break
        if b"\r" in block:
            if block.endswith(b"\r"):  # a CR at the block's end: is it a CRLF? one more byte says
                block += read(1)
            block = _LONE_CR.sub(b"\n", block)
        start = 0
        while True:
            end = block.find(b"\n", start)
            if end < 0:
                rest = block[start:]
                if head_size < keep and rest:
                    head.append(rest[: keep - head_size])
                    head_size += len(head[-1])
                elif rest:
                    head_size = keep  # past the limit: the rest of the line is skipped
                break
            if head:
                line = b"".join(head) + block[start : end + 1]
                head.clear()
                head_size = 0
            else:
                line = block[start : end + 1]
            yield line if len(line) <= keep else line[:keep]
            start = end + 1
    if head:
        yield b"".join(head)


def _with_progress(stream: Iterable[bytes], progress: ProgressCallback) -> Iterator[bytes]:
    done = 0
    for count, line in enumerate(stream, 1):
        done += len(line)
        if count % 8192 == 0:
            progress(done)
        yield line
    progress(done)
