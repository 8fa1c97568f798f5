"""The probe and resource threads of `logpipe follow`, built from the config and started beside the log readers.

They hand their events to the follower's queue as ("readings", name, [Event]) items, which the follower runs
through the engine like any log event; they never hold the log readers up (their own threads; a full queue makes
them wait, not the readers).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from logpipe.config import Config
from logpipe.event import Event
from logpipe.liveview import Snapshot
from logpipe.sources.probes import ProbeRunner, Resolver, queue_putter
from logpipe.sources.probetargets import resolvers
from logpipe.sources.readings import Readings
from logpipe.sources.stats import ResourceReader, docker_root
from logpipe.telemetry import Telemetry


class Monitors:
    def __init__(self, config: Config, client: Any, config_path: Path | None) -> None:
        """Checks the probes' hosts now (ConfigError with file:line for a host that is neither resolvable nor a
        container Docker knows)."""
        self.config, self.client = config, client
        self.resolvers: list[Resolver] = resolvers(config.probes, client, config_path)
        self.threads: list[threading.Thread] = []
        self.readings: Readings | None = None

    def start(
        self, out: queue.Queue[Any], stopping: threading.Event, names: Sequence[str], telemetry: Telemetry
    ) -> None:
        """Start the threads; `names` is the follower's live list of followed names (it grows with --label)."""
        readings = self.readings = Readings(telemetry.registry)
        put = queue_putter(out, stopping)

        def hand_over(event: Event) -> None:
            readings.note(event)
            put(event)

        for probe, resolve in zip(self.config.probes, self.resolvers, strict=True):
            self.threads.append(ProbeRunner(probe, hand_over, stopping, resolve))
        resources = self.config.resources
        disk_paths = list(resources.disk_paths) if resources.disk else []
        if resources.disk and not disk_paths:
            root = docker_root(self.client)
            disk_paths = [root] if root else []
        names_watched: Sequence[str] = names if resources.containers else ()
        if names_watched or disk_paths:
            self.threads.append(
                ResourceReader(self.client, names_watched, disk_paths, resources.interval / 1e9, hand_over, stopping)
            )
        for thread in self.threads:
            thread.start()

    def view(self, show: Callable[[Snapshot], None]) -> Callable[[Snapshot], None]:
        """The live view's callback, with the probes' and containers' last readings added to each snapshot."""

        def show_with_readings(snapshot: Snapshot) -> None:
            if self.readings is not None:
                snapshot = dataclasses.replace(
                    snapshot, probes=self.readings.probes(), resources=self.readings.resources()
                )
            show(snapshot)

        return show_with_readings

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)
