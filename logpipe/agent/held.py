"""Events held until the log lines reach their time: Docker events and probe, stats and disk readings come from other
threads stamped near the present. They wait in a heap ordered by event time (then arrival) and are merged in ahead
of the first line later than them, or let through once the readers are caught up (or too many wait). Without that,
a container's `start` read before its backlog moved the engine's one watermark past the whole backlog, and nothing
in it fired."""

from __future__ import annotations

import heapq
import itertools

from logpipe.event import Event

MAX_HELD = 10_000  # events and readings held while a backlog is read (minutes of them); past this they go through

# what a held event carries: (time, arrival, event, warm-up?, the Docker events checkpoint it moves to or None)
Held = tuple[int, int, Event, bool, tuple[int, int] | None]


class HeldEvents:
    def __init__(self, limit: int = MAX_HELD) -> None:
        self.limit = limit
        self._heap: list[Held] = []
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def hold(self, event: Event, warm: bool, position: tuple[int, int] | None = None) -> None:
        heapq.heappush(self._heap, (event.time, next(self._arrivals), event, warm, position))

    def overfull(self) -> bool:
        return len(self._heap) > self.limit

    def due_by(self, until: int) -> bool:
        """Whether any held event is of time <= until (asked once per line: one comparison)."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= until

    def release(self, until: int | None) -> list[tuple[Event, bool, tuple[int, int] | None]]:
        """The held events of time <= until (all of them for None), oldest first, taken out."""
        heap = self._heap
        due = []
        while heap and (until is None or heap[0][0] <= until):
            _, _, event, warm, position = heapq.heappop(heap)
            due.append((event, warm, position))
        return due
