"""Checkpoints: for each followed name and stream, the position (container id, Docker timestamp, lines seen at that
timestamp) of the last line whose events are all handled: not held by the assembler (an open multi-line event or
a partial chunk is held). They are saved together, with the event output's length (--events-out) and the incident
book's changes, in one transaction; on start, reading resumes right after them. Docker events have a checkpoint of
their own (their time and how many shared it), under the name EVENTS.

The event output is flushed (and fsynced) before each save, and on start it is cut back to the length saved: after
a kill -9, what was written past the last save is removed and written again from the re-read lines, so each
line's event appears exactly once.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO

import structlog

from logpipe.event import Event, Origin, RawLine
from logpipe.redact import Redactor
from logpipe.sources.docker.events import EVENTS
from logpipe.state.progress import Checkpoint
from logpipe.state.store import StateStore

log = structlog.get_logger("logpipe.follow")
StreamKey = tuple[str, str]  # (followed name, stream)
Position = tuple[str, int, int]  # (container id, Docker time, lines seen at that time): a tuple, not a frozen
# Checkpoint, since one is made per line (1.35 us for a frozen dataclass)


class EventOutput:
    """--events-out: every event, redacted, as a JSON line; its length is committed with the checkpoints when it
    is a regular file (a pipe or a terminal cannot be cut back)."""

    def __init__(self, out: BinaryIO, store: StateStore) -> None:
        self.out = out
        self._redactor = Redactor()
        self.path = _committed_output(out, store)

    def write(self, event: Event) -> None:
        self.out.write(self._redactor.event_json(event) + b"\n")

    def commit(self) -> dict[str, int]:
        """Flush what was written (and fsync it, for a file): its path and length, to save with the checkpoints."""
        self.out.flush()
        if self.path is None:
            return {}
        os.fsync(self.out.fileno())  # on disk before the checkpoint that counts it
        return {self.path: os.fstat(self.out.fileno()).st_size}


class Checkpointer:
    """Where each followed stream is read to, and handled to; saved with the output and the incidents."""

    def __init__(self, store: StateStore, output: EventOutput | None = None) -> None:
        self.store, self.output = store, output
        self._read: dict[StreamKey, Position] = {}  # the last line read
        self._safe: dict[StreamKey, Position] = {}  # the last line whose events are all handled
        self._saved: dict[StreamKey, Checkpoint] = {}
        self._origin_of: dict[StreamKey, Origin] = {}  # the current container's origin per (name, stream)
        self._last_origin: Origin | None = None
        self._last_key: StreamKey = ("", "")  # (name, stream) of _last_origin
        self._previous: Position | None = None  # the line read before the last one, on its stream
        self.saved_at = time.monotonic()

    def key(self, name: str, origin: Origin) -> StreamKey:
        """The stream a line is on; lines come in runs of one stream, so no tuple is built and hashed per line."""
        if origin is self._last_origin:
            return self._last_key
        key = (name, origin.stream)
        self._origin_of[key] = origin
        self._last_origin, self._last_key = origin, key
        return key

    def read(self, key: StreamKey, raw: RawLine) -> None:
        """A line read (not warm-up): its position, counted among the lines of its timestamp."""
        previous = self._read.get(key)
        time_ns = raw.docker_time or 0
        seen = previous[2] + 1 if previous is not None and previous[1] == time_ns else 1
        self._read[key] = (raw.origin.container_id, time_ns, seen)
        self._previous = previous

    def assembled(self, key: StreamKey, held: int) -> None:
        """The line just read went through the assembler, which holds `held` lines of its stream: it is handled
        unless held, and when only it is held, everything before it is."""
        if held == 0:
            self._safe[key] = self._read[key]
        elif held == 1 and self._previous is not None:
            self._safe[key] = self._previous

    def all_handled(self, held: Callable[[Origin], int]) -> None:
        """Every stream whose lines the assembler no longer holds (`held`: Assembler.held) is handled up to its
        last line (after a flush)."""
        for key, position in self._read.items():
            origin = self._origin_of.get(key)
            if origin is None or held(origin) == 0:
                self._safe[key] = position

    def events_handled(self, position: tuple[int, int]) -> None:
        """A Docker event handled: the events stream's checkpoint moves to it."""
        self._safe[(EVENTS, EVENTS)] = ("", *position)

    def resumed_from(self, names: Iterable[str]) -> int | None:
        """The oldest checkpoint of these names, None when none has one (nothing to resume)."""
        resumed = [cp.time for name in names for cp in self.store.progress.checkpoints(name).values()]
        return min(resumed) if resumed else None

    def save(self, incidents: Sequence[dict[str, Any]]) -> None:
        """Save what moved, the output's length and the incidents' changes, in one transaction."""
        outputs = self.output.commit() if self.output is not None else {}
        changed: dict[str, dict[str, Checkpoint]] = {}
        for (name, stream), (container_id, time_ns, seen) in self._safe.items():
            position = Checkpoint(container_id, time_ns, seen)
            if self._saved.get((name, stream)) != position:
                changed.setdefault(name, {})[stream] = position
        if changed or outputs or incidents:
            self.store.progress.save(changed, outputs, incidents)
        for name, positions in changed.items():
            for stream, position in positions.items():
                self._saved[(name, stream)] = position
        self.saved_at = time.monotonic()

    def age(self) -> float:
        """Seconds since the checkpoints were last saved (a stuck follower's grows): read at each scrape."""
        return time.monotonic() - self.saved_at


def _committed_output(events_out: BinaryIO, store: StateStore) -> str | None:
    """The event output's path when it is a regular file, after cutting it back to the length saved with the
    checkpoints (what lies beyond was written from lines that will be read again). None for a pipe or terminal."""
    try:
        info = os.fstat(events_out.fileno())
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    path = os.path.realpath(events_out.name)
    committed = store.progress.output_size(path)
    if committed is None:
        store.progress.save({}, {path: info.st_size})  # a kill before the first save cuts back to here
    elif info.st_size > committed:
        log.info("cutting the event output back to its last checkpoint", path=path, removed=info.st_size - committed)
        os.ftruncate(events_out.fileno(), committed)
    elif info.st_size < committed:
        log.warning("the event output is shorter than logpipe wrote; was it truncated?", path=path)
        store.progress.save({}, {path: info.st_size})
    return path
