"""From RawLines to Events: merge Docker's partial chunks, join multi-line events, per stream and bounded.

A stream is one (container, stdout|stderr) pair, keyed by its Origin. A text event stays open while the lines
after it look like its continuation (indented stack frames, `Caused by:`, an exception line, the brackets of an
object dump), and a NestJS text event also while any line but another header comes right after it (`nestblock`);
it is closed by the next start line on its stream, by `flush_idle()` when the stream has been quiet for a moment,
or by `flush()` at the end of input. Every input line is accounted for: it is either an
event, or counted in the `lines` of the event it was joined into (also when a cap cut it off).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from logpipe.event import LEVEL_RANK, Event, Origin, RawLine
from logpipe.parsers.ansi import strip_ansi
from logpipe.parsers.crashbanner import CONTINUATION as CRASH_CONTINUATION
from logpipe.parsers.crashbanner import LOCATED, NONE, banner_step, opens_banner
from logpipe.parsers.detect import Detector
from logpipe.parsers.nestblock import BLOCK_WINDOW_NS, block_line, header_prefix, opens_record, split_block


@dataclass(frozen=True, slots=True)
class Limits:
    max_line_bytes: int = 1024 * 1024  # longer lines are cut and flagged "truncated"
    max_group_lines: int = 500  # continuation lines kept per event; the rest counted, flagged "multiline_cut"
    max_group_bytes: int = 256 * 1024
    idle_flush_ns: int = 500_000_000  # an open multi-line event is emitted after this much quiet


# Lines that continue the event above them. Indented lines (stack frames, object bodies) and blank lines are
# caught before this runs; the rest: chained causes, a bare opening bracket, closing brackets (`} +3ms`), a
# V8 stack frame that lost its indentation (`at Socket.<anonymous> (/app/node_modules/ioredis/...:317:37)`,
# as log shippers and pastes leave them), and what Node adds to a crash report (crashbanner).
_CONTINUATION = re.compile(
    r"(?:Caused by:|During handling of the above|The above exception|Traceback \(most recent call last\)"
    r"|\.\.\. \d+ more|[\]})]|[{\[]\s*$"
    r"|at [^\n]{1,400}(?::\d+:\d+\)?|\((?:native|<anonymous>|index \d+)\))\s*$" + CRASH_CONTINUATION + ")"
)
# An exception line: continues only an event that can own one (see _is_continuation).
_EXCEPTION_LINE = re.compile(r"[\w.$]*(?:Error|Exception|Warning)(?: \[[^\]]*\])?(?::|$)")
_FRAME_LINE = re.compile(
    r"\s+(?:at |File \"|\^|~)|at [^\n]{1,400}(?::\d+:\d+\)?|\((?:native|<anonymous>|index \d+)\))\s*$"
    r"|\^+\s*$"  # a crash banner's caret under top-level code
)
_NEST_DELTA = re.compile(r"\s\+\d+ms$")
_NEST = "nest"
_PLAIN = "plain"
_WARNING = LEVEL_RANK["warning"]
_ERROR = LEVEL_RANK["error"]


@dataclass(slots=True)
class _Stream:
    head: Event | None = None  # the open event that continuation lines are joined into
    continuation: list[str] = field(default_factory=list)
    continuation_bytes: int = 0
    dropped_lines: int = 0
    last_arrival: int = 0
    last_time: int = 0  # the Docker time (else arrival) of the open event's latest line
    prefix: str = ""  # a NestJS header's compose or journald prefix, which its continuation lines carry too
    banner: int = NONE  # how far into a Node crash banner the open event is (crashbanner)
    chunks: list[bytes] = field(default_factory=list)  # Docker partial chunks of the line being merged
    chunks_bytes: int = 0
    chunks_time: int | None = None  # every chunk carries the first chunk's time; keep the first
    chunks_truncated: bool = False
    chunks_unterminated: bool = False


class Assembler:
    def __init__(self, detector: Detector | None = None, limits: Limits | None = None) -> None:
        self.detector = detector or Detector()
        self.limits = limits or Limits()
        self._streams: dict[Origin, _Stream] = {}
        self._last_origin: Origin | None = None
        self._last_stream = _Stream()

    def feed(self, raw: RawLine, arrival: int | None = None) -> Sequence[Event]:
        """The events this line completes (often none or one), in order."""
        origin = raw.origin
        if origin is self._last_origin:
            stream = self._last_stream
        else:
            stream = self._streams.get(origin) or self._streams.setdefault(origin, _Stream())
            self._last_origin, self._last_stream = origin, stream
        if arrival is None:
            arrival = time.time_ns()

        data, docker_time = raw.data, raw.docker_time
        flags: tuple[str, ...] = ()
        if raw.partial:
            self._add_chunk(stream, data, docker_time)
            return ()
        if stream.chunks:
            self._add_chunk(stream, data, docker_time)
            data, docker_time, flags = self._take_chunks(stream)
        if len(data) > self.limits.max_line_bytes:
            data, flags = data[: self.limits.max_line_bytes], (*flags, "truncated")
        try:
            line = data.decode()
        except UnicodeDecodeError:
            line, flags = data.decode("utf-8", "replace"), (*flags, "invalid_utf8")
        if line.endswith("\r"):
            line = line[:-1]

        when = arrival if docker_time is None else docker_time
        closed = stream.head
        if closed is not None:
            if self._is_continuation(stream, line, when):
                self._continue(stream, line)
                stream.last_arrival, stream.last_time = arrival, when
                return ()
            if stream.continuation or stream.dropped_lines:
                closed = self._close(stream)
            stream.head = None
        event = self.detector.parse(line, origin, docker_time, arrival)
        if flags:
            event = event._replace(flags=event.flags + flags)
        if event.parser in self.detector.continuable:
            stream.head, stream.last_arrival, stream.last_time = event, arrival, when
            prefix = event.fields.get("prefix") if event.parser == _NEST else None
            stream.prefix = header_prefix(event.raw, str(event.fields.get("app", "Nest"))) if prefix else ""
            stream.banner = LOCATED if event.parser == _PLAIN and opens_banner(event.message) else NONE
            return (closed,) if closed is not None else ()
        return (closed, event) if closed is not None else (event,)

    def held(self, origin: Origin) -> int:
        """Input lines of this stream held back, not yet in an emitted event (an open multi-line event, partial
        chunks): a checkpoint must not move past them."""
        stream = self._last_stream if origin is self._last_origin else self._streams.get(origin)
        if stream is None:
            return 0
        group = 0 if stream.head is None else stream.head.lines + len(stream.continuation) + stream.dropped_lines
        return group + len(stream.chunks)

    def flush_idle(self, now: int | None = None) -> list[Event]:
        """Emit open events of streams quiet for `idle_flush_ns`: call this on a timer when following live."""
        now = time.time_ns() if now is None else now
        deadline = now - self.limits.idle_flush_ns
        return [
            self._close(stream)
            for stream in self._streams.values()
            if stream.head is not None and stream.last_arrival <= deadline
        ]

    def flush_stream(self, origin: Origin) -> list[Event]:
        """Emit the open event of one stream now (the follower's warm-up ends on it)."""
        stream = self._streams.get(origin)
        if stream is None or stream.head is None:
            return []
        return [self._close(stream)]

    def flush(self) -> list[Event]:
        """End of input: emit every open event, and any partial line whose last chunk never came."""
        out: list[Event] = []
        for origin, stream in self._streams.items():
            if stream.chunks:
                # the container stopped mid-line: an empty last chunk ends it, flagged
                stream.chunks_unterminated = True
                out.extend(self.feed(RawLine(b"", origin)))
            if stream.head is not None:
                out.append(self._close(stream))
        return out

    # --- partial chunks ------------------------------------------------------------------------------------
    def _add_chunk(self, stream: _Stream, data: bytes, docker_time: int | None) -> None:
        if not stream.chunks and not stream.chunks_truncated:
            stream.chunks_time = docker_time
        room = self.limits.max_line_bytes - stream.chunks_bytes
        if len(data) > room:
            data, stream.chunks_truncated = data[: max(room, 0)], True
        if data or not stream.chunks:
            stream.chunks.append(data)
            stream.chunks_bytes += len(data)

    def _take_chunks(self, stream: _Stream) -> tuple[bytes, int | None, tuple[str, ...]]:
        data = b"".join(stream.chunks)
        flags: tuple[str, ...] = ("partial_merged",)
        if stream.chunks_truncated:
            flags = (*flags, "truncated")
        if stream.chunks_unterminated:
            flags = (*flags, "unterminated")
        docker_time = stream.chunks_time
        stream.chunks, stream.chunks_bytes, stream.chunks_time = [], 0, None
        stream.chunks_truncated = stream.chunks_unterminated = False
        return data, docker_time, flags

    # --- multi-line ----------------------------------------------------------------------------------------
    @staticmethod
    def _is_continuation(stream: _Stream, line: str, when: int) -> bool:
        head = stream.head
        assert head is not None
        if head.parser == _NEST:
            text = block_line(line, stream.prefix)
            if text is None:
                return False  # the next NestJS header, or a line from another source of a prefixed stream
            if opens_record(text, LEVEL_RANK[head.level] >= _WARNING):
                return False
            if when - stream.last_time <= BLOCK_WINDOW_NS:
                return True
            line = text  # later than that: the rules of any stack trace, on the line without colours or prefix
        elif stream.banner != NONE:
            continues, stream.banner = banner_step(stream.banner, line)
            if continues is not None:
                return continues
        first = line[:1]
        if first in (" ", "\t") or not line.strip():
            return True
        if first == "\x1b":  # a coloured line is a logger's header; stack frames and dumps carry no colour
            return False
        if _CONTINUATION.match(line):
            return True
        if _EXCEPTION_LINE.match(line):
            # "Error: connect ECONNREFUSED" continues a NestJS ERROR line (its stack follows it) and ends a
            # Python traceback; after an ordinary info line it starts an event of its own.
            return LEVEL_RANK[head.level] >= LEVEL_RANK["warning"] or bool(stream.continuation)
        return False

    def _continue(self, stream: _Stream, line: str) -> None:
        limits = self.limits
        if (
            stream.dropped_lines
            or len(stream.continuation) >= limits.max_group_lines
            or stream.continuation_bytes + len(line) > limits.max_group_bytes
        ):
            stream.dropped_lines += 1
            return
        stream.continuation.append(line)
        stream.continuation_bytes += len(line) + 1

    def _close(self, stream: _Stream) -> Event:
        head, lines, dropped = stream.head, stream.continuation, stream.dropped_lines
        assert head is not None
        stream.head, stream.continuation, stream.continuation_bytes, stream.dropped_lines = None, [], 0, 0
        if not lines and not dropped:
            if head.parser == _PLAIN and LEVEL_RANK[head.level] < _ERROR and _FRAME_LINE.match(head.message):
                return head._replace(level="error")  # a stack frame with no header above it: a crash's
            return head
        if head.parser == _NEST:
            return _join_nest(head, lines, dropped, stream.prefix)
        return _join(head, lines, dropped)


def _join_nest(head: Event, lines: list[str], dropped: int, prefix: str) -> Event:
    """A NestJS event with the lines that followed its header: the message's own lines extend the message, the
    stack (which may repeat the message) goes once to fields["stack"]."""
    body = [strip_ansi(line)[len(prefix) :] if prefix else strip_ansi(line) for line in lines]
    message, stack = split_block(head.message, body)
    while stack and not stack[-1].strip():
        stack.pop()
    if stack:
        stack[-1] = _NEST_DELTA.sub("", stack[-1])
    fields = head.fields
    if stack:
        fields = dict(fields)
        fields["stack" if "stack" not in fields else "stack_trace"] = "\n".join(stack)
    raw = "\n".join((head.raw, *lines))
    flags = (*head.flags, "multiline_cut") if dropped else head.flags
    return head._replace(message=message, fields=fields, raw=raw, lines=1 + len(lines) + dropped, flags=flags)


def _join(head: Event, lines: list[str], dropped: int) -> Event:
    """The head event with its continuation lines: a stack trace goes to fields["stack"], anything else (an
    object dump) extends the message."""
    count = 1 + len(lines) + dropped
    raw = "\n".join((head.raw, *lines))
    body = [strip_ansi(line) for line in lines]
    while body and not body[-1].strip():
        body.pop()
    flags = (*head.flags, "multiline_cut") if dropped else head.flags
    if not any(_FRAME_LINE.match(line) for line in body):
        message = "\n".join((head.message, *body)) if body else head.message
        return head._replace(message=message, raw=raw, lines=count, flags=flags)
    fields = dict(head.fields)
    fields["stack" if "stack" not in fields else "stack_trace"] = "\n".join(body)
    level = head.level
    if LEVEL_RANK[level] < LEVEL_RANK["error"]:
        level = "error"  # a line with no level of its own, followed by a stack trace, reports a crash
    return head._replace(level=level, fields=fields, raw=raw, lines=count, flags=flags)
