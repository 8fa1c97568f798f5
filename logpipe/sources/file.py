"""Read a saved log (a file or stdin) as RawLines, in whichever of three shapes it was saved:

- plain lines, as an application printed them;
- `docker logs -t` output: each line prefixed with its RFC 3339 nanosecond Docker timestamp and a space;
- Docker's json-file log (`{"log":"...\\n","stream":"stderr","time":"..."}` per line), which also carries the
  stream and marks 16 KiB partial chunks by the missing trailing newline.

The shape is sniffed once, from the first line, so plain files pay nothing per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO

import orjson

from logpipe.event import Origin, RawLine
from logpipe.times import parse_iso8601

_DOCKER_PREFIX = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) ")

ProgressCallback = Callable[[int], None]  # called with the bytes read so far, every few thousand lines


def read_lines(stream: BinaryIO, origin: Origin, progress: ProgressCallback | None = None) -> Iterator[RawLine]:
    lines: Iterable[bytes] = stream if progress is None else _with_progress(stream, progress)
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
    for line in lines:
        try:
            record = orjson.loads(line)
            text, stream_name, stamp = record["log"], record.get("stream", ""), record.get("time", "")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            yield RawLine(_chomp(line), origin)  # not a json-file record: the parsers will mark it
            continue
        stream_origin = by_stream.get(stream_name)
        if stream_origin is None:
            stream_origin = by_stream[stream_name] = replace(origin, stream=stream_name)
        partial = not text.endswith("\n")
        data = (text if partial else text[:-1]).encode()
        yield RawLine(data, stream_origin, parse_iso8601(stamp) if stamp else None, partial)


def _with_progress(stream: BinaryIO, progress: ProgressCallback) -> Iterator[bytes]:
    done = 0
    for count, line in enumerate(stream, 1):
        done += len(line)
        if count % 8192 == 0:
            progress(done)
        yield line
    progress(done)
