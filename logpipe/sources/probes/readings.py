"""The last reading of each probe, container and disk: exported on /metrics, shown in the live view.

The probe and resource threads note each event here as they hand it to the follower, so the follower's loop does
no extra work for them; prometheus-client's gauges are thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from logpipe.event import Event


@dataclass(frozen=True, slots=True)
class ProbeRow:
    name: str
    ok: bool
    state: str  # "up", or why not: "timeout", "status", "body", "database down" ...
    duration_ms: float


@dataclass(frozen=True, slots=True)
class ResourceRow:
    container: str
    memory_used: int
    memory_percent: float | None
    cpu_percent: float | None


class Readings:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.probe_up = Gauge("logpipe_probe_up", "1 when the last check of the probe passed", ["probe"], registry=r)
        self.probe_duration = Gauge(
            "logpipe_probe_duration_seconds", "How long the last check took", ["probe"], registry=r
        )
        self.probe_component_up = Gauge(
            "logpipe_probe_component_up", "1 when the health body said the component is up", ["probe", "component"],
            registry=r,
        )  # fmt: skip
        self.memory_used = Gauge(
            "logpipe_container_memory_used_bytes", "Memory used, cache excluded", ["container"], registry=r
        )
        self.memory_limit = Gauge("logpipe_container_memory_limit_bytes", "Memory limit", ["container"], registry=r)
        self.cpu = Gauge("logpipe_container_cpu_percent", "CPU % as docker stats shows it", ["container"], registry=r)
        self.pids = Gauge("logpipe_container_pids", "Processes in the container", ["container"], registry=r)
        self.disk_used = Gauge("logpipe_disk_used_ratio", "Share of the file system used", ["path"], registry=r)
        self._lock = threading.Lock()
        self._probes: dict[str, ProbeRow] = {}
        self._components: dict[str, set[str]] = {}  # per probe, the components its bodies named
        self._resources: dict[str, ResourceRow] = {}

    def note(self, event: Event) -> None:
        if event.logger == "probe":
            self._probe(event.fields["probe"])
        elif event.logger == "stats" and "error" not in event.fields["stats"]:
            self._stats(event.fields["stats"])
        elif event.logger == "disk" and "percent" in event.fields["disk"]:
            self.disk_used.labels(event.fields["disk"]["path"]).set(event.fields["disk"]["percent"] / 100)

    def _probe(self, fields: dict[str, Any]) -> None:
        name = fields["name"]
        self.probe_up.labels(name).set(1 if fields["ok"] else 0)
        self.probe_duration.labels(name).set(fields["duration_ms"] / 1000)
        components: dict[str, str] = fields.get("components") or {}
        for component, state in components.items():
            self.probe_component_up.labels(name, component).set(1 if state == "up" else 0)
        if components:  # the series are the last body's components (at most healthbody.MAX_COMPONENTS): a body
            # naming new ones at each check must not grow them without end
            with self._lock:
                gone = self._components.get(name, set()) - components.keys()
                self._components[name] = set(components)
            for component in gone:
                self.probe_component_up.remove(name, component)
        down = sorted(part for part, state in components.items() if state == "down")
        state = "up" if fields["ok"] else str(fields.get("error"))
        if down:
            state += f" ({', '.join(down)} down)"
        with self._lock:
            self._probes[name] = ProbeRow(name, bool(fields["ok"]), state, float(fields["duration_ms"]))

    def forget_probe(self, name: str) -> None:
        """A reload removed or changed the probe: its last readings are no longer news (a changed probe's come
        back with its next check)."""
        with self._lock:
            self._probes.pop(name, None)
            components = self._components.pop(name, set())
        self.probe_up.remove(name)  # a label set never seen is no error: nothing to remove
        self.probe_duration.remove(name)
        for component in components:
            self.probe_component_up.remove(name, component)

    def _stats(self, fields: dict[str, Any]) -> None:
        name = fields["container"]
        memory, cpu = fields.get("memory") or {}, fields.get("cpu") or {}
        self.memory_used.labels(name).set(memory.get("used", 0))
        self.memory_limit.labels(name).set(memory.get("limit", 0))
        if "percent" in cpu:
            self.cpu.labels(name).set(cpu["percent"])
        self.pids.labels(name).set(fields.get("pids", 0))
        with self._lock:
            self._resources[name] = ResourceRow(
                name, int(memory.get("used", 0)), memory.get("percent"), cpu.get("percent")
            )

    def probes(self) -> list[ProbeRow]:
        with self._lock:
            return [self._probes[name] for name in sorted(self._probes)]

    def resources(self) -> list[ResourceRow]:
        with self._lock:
            return [self._resources[name] for name in sorted(self._resources)]
