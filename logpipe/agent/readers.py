"""The follower's inputs from Docker: a container reader per followed name and the Docker events watcher, on their
own threads, into one bounded queue; names join as `--label` selectors discover containers."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from logpipe.sources.docker.events import EVENTS, EventWatcher
from logpipe.sources.docker.reader import ContainerReader, Item, ReadOptions, find_container
from logpipe.state.progress import Checkpoint

log = structlog.get_logger("logpipe.follow")
QUEUE_SIZE = 8  # batches (up to 2,048 lines each) between readers and engine; a reader waits when it is full,
# which bounds memory and keeps a reader that is never short of data from taking the GIL from the engine
LATENESS = 2_000_000_000  # ns: readers quiet this long (or reading lines this recent) are at the present


class Readers:
    def __init__(
        self,
        client: Any,
        names: Sequence[str],
        options: ReadOptions,
        checkpoints: Callable[[str], dict[str, Checkpoint]],
        memory: Callable[[], int] = lambda: 0,
    ) -> None:
        """`checkpoints`: where each name was read to (StateStore.checkpoints), the events' under EVENTS;
        `memory`: how far back the rules look (RuleSet.memory), re-read as warm-up before a checkpoint (asked for
        each reader as it starts: a name discovered after a reload takes the reloaded rules' memory)."""
        self.client, self.options, self.checkpoints, self.memory = client, options, checkpoints, memory
        self.names = list(names)  # grows as --label discovers containers (the monitors read it too)
        self.queue: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        self.stopping = threading.Event()
        self.readers = [self._new_reader(name) for name in self.names]
        self.watcher = EventWatcher(
            client,
            set(self.names),
            self.queue,
            self.stopping,
            dataclasses.replace(options, lookback=memory()),
            checkpoints(EVENTS).get(EVENTS),
            on_start=self.wake,
            on_discovery=lambda name: self.queue.put(("discovered", name, None)),
        )
        self._busy_at = time.monotonic()  # the last time a reader was seen attaching or reading a backlog

    def _new_reader(self, name: str) -> ContainerReader:
        options = dataclasses.replace(self.options, lookback=self.memory())
        return ContainerReader(self.client, name, self.queue, self.stopping, self.checkpoints(name), options)

    def start(self) -> None:
        for reader in self.readers:
            reader.start()
        self.watcher.start()

    def join(self, timeout: float) -> None:
        for reader in self.readers:
            if reader.is_alive():
                reader.join(timeout=timeout)

    def wake(self, name: str) -> None:
        """A container of this name started: its reader attaches now, not at its next poll."""
        for reader in self.readers:
            if reader.container == name:
                reader.wake.set()

    def follow(self, name: str) -> None:
        """A container that carries the --label selectors showed up: follow it too, by its name, unless it is
        gone already (an event replayed from before logpipe started)."""
        import docker.errors

        if name in self.names:
            return
        try:
            if find_container(self.client, name) is None:
                return
        except (docker.errors.DockerException, OSError):
            pass  # the daemon is away: follow it anyway, the reader waits for the daemon
        log.info("following a container that carries the labels", container=name)
        self.names.append(name)
        reader = self._new_reader(name)
        self.readers.append(reader)
        reader.start()

    def at_present(self, last_arrival: float, last_line_time: int) -> bool:
        """The readers are at the present: quiet for LATENESS since any was attaching or reading a backlog, or
        the last line read is that recent. Until then held events wait, so they never move event time past lines
        not read yet."""
        if any(r.is_alive() and r.state in ("starting", "reading an exited container") for r in self.readers):
            self._busy_at = time.monotonic()  # a reader is attaching or reading a backlog to its end
        quiet = time.monotonic() - max(last_arrival, self._busy_at) >= LATENESS / 1e9
        return quiet or time.time_ns() - last_line_time < LATENESS

    def all_read(self, ended: set[str]) -> bool:
        """--until-exit: every followed container has exited and been read, and the events are caught up."""
        return (
            len(ended) == len(self.names)
            and (self.watcher.caught_up.is_set() or self.watcher.problem is not None)
            and self.queue.empty()
        )
