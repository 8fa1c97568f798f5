"""The probe and resource threads of `logpipe follow`, built from the config and started beside the log readers.

They hand their events to the follower's queue as ("readings", name, [Event]) items, which the follower runs
through the engine like any log event; they never hold the log readers up (their own threads; a full queue makes
them wait, not the readers).

A reload (SIGHUP, `logpipe reload`) re-reads `probes:`: a probe whose settings changed, or that is new, gets a
fresh runner; one that is gone is retired; an unchanged one keeps running (and its count of failures in a row).
`resources:` is read at start only.

The readings are also kept in the state directory (sources/probes/readinglog.py); at start, those of the recent past
go to the follower first, as warm-up events, and each probe takes up its count of failures in a row and last
uptime.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog

from logpipe.config.settings import Config
from logpipe.console.liveview import Snapshot
from logpipe.engine.rules import RuleSet
from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, Resolver, redact_url
from logpipe.sources.probes.readinglog import READINGS_FILE, ReadingLog, bodies_read_by, retention_for
from logpipe.sources.probes.readings import Readings
from logpipe.sources.probes.stats import ResourceReader, docker_root
from logpipe.sources.probes.targets import resolvers
from logpipe.sources.probes.watch import ProbeRunner, queue_putter
from logpipe.telemetry import Telemetry

log = structlog.get_logger("logpipe.probes")


class Monitors:
    def __init__(self, config: Config, client: Any, config_path: Path | None) -> None:
        """Checks the probes' hosts now (ConfigError with file:line for a host that is neither resolvable nor a
        container Docker knows)."""
        self.config, self.client = config, client
        self.resolvers: list[Resolver] = resolvers(config.probes, client, config_path)
        self.threads: list[threading.Thread] = []
        self.probe_runners: dict[str, ProbeRunner] = {}  # by probe name
        self.readings: Readings | None = None
        self.reading_log: ReadingLog | None = None
        self._put: Callable[[Event], None] | None = None
        self._stopping = threading.Event()
        # a retired runner may be between its check and handing it over: the lock keeps its reading out of the
        # gauges once the reload forgot them
        self._lock = threading.Lock()

    def start(
        self,
        out: queue.Queue[Any],
        stopping: threading.Event,
        names: Sequence[str],
        telemetry: Telemetry,
        ruleset: RuleSet | None = None,
    ) -> None:
        """Start the threads; `names` is the follower's live list of followed names (it grows with --label).
        With the rule set, readings are kept for as long as its windows look back, and those kept before go into
        `out` first, as warm-up (call before the follower runs: `out` must have room for one item)."""
        readings = self.readings = Readings(telemetry.registry)
        put = self._put = queue_putter(out, stopping)
        self._stopping = stopping
        memories: dict[str, ProbeMemory] = {}
        if ruleset is not None:
            self.reading_log = ReadingLog(
                self.config.state_dir / READINGS_FILE,
                retention_for(ruleset),
                lambda problem: telemetry.degraded("readings", problem),
                keep_bodies=bodies_read_by(ruleset),
            )
            memories = self._warm_up(out, self.reading_log.recent(time.time_ns()))
        reading_log = self.reading_log

        def hand_over(event: Event) -> None:
            readings.note(event)
            if reading_log is not None:
                reading_log.add(event)
            put(event)

        for probe, resolve in zip(self.config.probes, self.resolvers, strict=True):
            self._start_probe(probe, resolve, memories.get(probe.label))
        resources = self.config.resources
        disk_paths = list(resources.disk_paths) if resources.disk else []
        if resources.disk and not disk_paths:
            root = docker_root(self.client)
            disk_paths = [root] if root else []
        names_watched: Sequence[str] = names if resources.containers else ()
        if names_watched or disk_paths:
            reader = ResourceReader(
                self.client, names_watched, disk_paths, resources.interval / 1e9, hand_over, stopping
            )
            self.threads.append(reader)
            reader.start()

    def _warm_up(self, out: queue.Queue[Any], kept: list[Event]) -> dict[str, ProbeMemory]:
        """Hand the kept readings to the follower as warm-up; what each configured probe remembered (failures in a
        row, the last uptime), from its last reading at the same URL."""
        if kept:
            try:
                out.put_nowait(("warm readings", "", kept))
            except queue.Full:  # the follower is running already: its windows are past warming
                log.warning("readings from before the restart not replayed: the follower started first")
        last = {event.origin.name: event.fields["probe"] for event in kept if event.logger == "probe"}
        memories = {}
        for probe in self.config.probes:
            fields = last.get(probe.label)
            if fields is not None and fields.get("url") == redact_url(probe.url):
                memories[probe.label] = ProbeMemory(int(fields.get("consecutive_failures") or 0), fields.get("uptime"))
        if kept:
            log.info("readings from before the restart", events=len(kept), probes_resumed=sorted(memories))
        return memories

    def _start_probe(self, probe: ProbeConfig, resolve: Resolver, memory: ProbeMemory | None = None) -> None:
        readings, put, reading_log = self.readings, self._put, self.reading_log
        assert readings is not None, "start() first"
        assert put is not None

        def hand_over(event: Event) -> None:
            with self._lock:
                if runner.retired.is_set():
                    return
                readings.note(event)
            if reading_log is not None:
                reading_log.add(event)
            put(event)  # outside the lock: it waits while the follower's queue is full

        runner = ProbeRunner(probe, hand_over, self._stopping, resolve, memory)
        self.probe_runners[probe.label] = runner
        self.threads.append(runner)
        runner.start()

    def reload(self, config: Config, config_path: Path | None) -> None:
        """Apply the reloaded config's `probes:`. Raises ConfigError (with file:line; nothing changed) when a
        probe's host is neither resolvable nor a container Docker knows."""
        checked = resolvers(config.probes, self.client, config_path)
        fresh = {probe.label: resolve for probe, resolve in zip(config.probes, checked, strict=True)}
        wanted = {probe.label: probe for probe in config.probes}
        kept, retired, memories = [], [], {}
        with self._lock:
            for name, runner in list(self.probe_runners.items()):
                if wanted.get(name) == runner.probe:
                    kept.append(name)
                    continue
                runner.retire()
                retired.append(name)
                del self.probe_runners[name]
                if self.readings is not None:
                    self.readings.forget_probe(name)
                if name in wanted and wanted[name].url == runner.probe.url:
                    # same endpoint: its failures in a row still count (a copy: the retired runner may still write)
                    memories[name] = dataclasses.replace(runner.memory)
        started = [name for name in wanted if name not in self.probe_runners]
        for name in started:
            self._start_probe(wanted[name], fresh[name], memories.get(name))
        self.threads = [thread for thread in self.threads if thread.is_alive()]
        if config.resources != self.config.resources:
            log.warning("resources: changed; read at start only, the running readings stay until a restart")
        self.config = self.config.model_copy(update={"probes": config.probes})
        self.resolvers = [fresh[probe.label] for probe in config.probes]
        log.info("probes reloaded", kept=sorted(kept), started=sorted(started), stopped=sorted(retired))

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
