"""Container resources (logger "stats") and host disk usage (logger "disk") as events, read every interval on one
thread beside the log readers.

Container figures are computed as `docker stats` computes them (docker/cli, stats_helpers.go):
- memory used = usage minus the inactive file cache (`total_inactive_file` on cgroup v1, `inactive_file` on v2);
  percent of the limit, which the daemon reports as the host's memory when the container has none;
- CPU % = container CPU time delta / host CPU time delta x online CPUs x 100 (100 % is one whole core), taken
  between this reading and the previous one (the one-shot stats call returns at once instead of sampling for a
  second); `cpu.limit_percent` is the same share of what the container may use (`--cpus`, or the host's CPUs);
- PIDs, network bytes (all interfaces) and block I/O bytes.

A container that is not running, or goes away, is skipped without a word; any other failed reading is an event
with `stats.error` (or `disk.error`) saying why, never an exception in the follower.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import structlog

from logpipe.event import Event, Origin
from logpipe.sources.docker.reader import find_container

log = structlog.get_logger("logpipe.stats")
MIB = 1024 * 1024


def memory_figures(memory: dict[str, Any]) -> dict[str, Any]:
    """used (cache excluded), limit, percent, as `docker stats` shows them; {} when the daemon gave none."""
    usage = memory.get("usage")
    if not isinstance(usage, int):
        return {}
    detail = memory.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):  # cgroup v1, then v2
        inactive = detail.get(key)
        if isinstance(inactive, int) and inactive < usage:
            usage -= inactive
            break
    limit = memory.get("limit") or 0
    figures: dict[str, Any] = {"used": usage, "limit": limit}
    if limit:
        figures["percent"] = round(usage / limit * 100, 2)
    return figures


def cpu_percent(now: dict[str, Any], before: dict[str, Any]) -> float | None:
    """CPU % between two `cpu_stats` readings, as `docker stats` computes it; None without a usable pair."""
    try:
        cpu_delta = now["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]
        system_delta = now["system_cpu_usage"] - before["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    cpus = now.get("online_cpus") or len(now["cpu_usage"].get("percpu_usage") or ()) or 1
    if system_delta <= 0 or cpu_delta < 0:
        return None
    return round(float(cpu_delta) / float(system_delta) * float(cpus) * 100, 2)


def cpu_limit(host_config: dict[str, Any], online_cpus: int) -> float:
    """How many CPUs the container may use: --cpus, else a CFS quota, else every CPU of the host."""
    nano = host_config.get("NanoCpus") or 0
    if nano:
        return float(nano) / 1e9
    quota, period = host_config.get("CpuQuota") or 0, host_config.get("CpuPeriod") or 100_000
    if quota > 0:
        return float(quota) / float(period)
    return float(online_cpus or 1)


def io_figures(stats: dict[str, Any]) -> dict[str, Any]:
    networks = stats.get("networks") or {}
    blkio = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ()
    return {
        "net": {
            "rx_bytes": sum(n.get("rx_bytes", 0) for n in networks.values()),
            "tx_bytes": sum(n.get("tx_bytes", 0) for n in networks.values()),
        },
        "block": {
            "read_bytes": sum(e.get("value", 0) for e in blkio if str(e.get("op", "")).lower() == "read"),
            "write_bytes": sum(e.get("value", 0) for e in blkio if str(e.get("op", "")).lower() == "write"),
        },
    }


def stats_event(name: str, container_id: str, time_ns: int, fields: dict[str, Any]) -> Event:
    memory, cpu = fields.get("memory") or {}, fields.get("cpu") or {}
    if "error" in fields:
        level, message = "warning", f"stats of {name} could not be read: {fields['error']}"
    else:
        level = "info"
        message = f"{name}: memory {memory.get('used', 0) / MIB:.1f} MiB"
        if "percent" in memory:
            message += f" of {memory['limit'] / MIB:.0f} MiB ({memory['percent']:.0f} %)"
        if "percent" in cpu:
            message += f", CPU {cpu['percent']:.0f} %"
    record = {"stats": fields}
    return Event(
        time_ns, level, message, "stats", record, Origin("stats", name, "", container_id[:12]),
        orjson.dumps(record).decode(), "stats",
    )  # fmt: skip


def disk_event(path: str, time_ns: int) -> Event:
    fields: dict[str, Any] = {"path": path}
    try:
        usage = shutil.disk_usage(path)
    except OSError as error:
        fields["error"] = f"{type(error).__name__}: {error.strerror or error}"
        level, message = "warning", f"disk usage of {path} could not be read: {fields['error']}"
    else:
        # as df's Use%: used / (used + available to unprivileged users)
        fields.update(total=usage.total, used=usage.used, free=usage.free)
        fields["percent"] = round(usage.used / (usage.used + usage.free) * 100, 2) if usage.used + usage.free else 0.0
        level, message = "info", f"disk {path}: {fields['percent']:.0f} % used, {usage.free / MIB:,.0f} MiB free"
    record = {"disk": fields}
    return Event(time_ns, level, message, "disk", record, Origin("disk", path), orjson.dumps(record).decode(), "disk")


class ResourceReader(threading.Thread):
    """Every interval: a stats event per followed container that runs, and a disk event per path."""

    def __init__(
        self,
        client: Any,
        names: Sequence[str],
        disk_paths: Sequence[str],
        interval: float,
        out: Callable[[Event], None],
        stopping: threading.Event,
    ) -> None:
        super().__init__(name="resources", daemon=True)
        self.client, self.names, self.disk_paths = client, names, list(disk_paths)
        self.interval, self.out, self.stopping = interval, out, stopping
        self._previous_cpu: dict[str, dict[str, Any]] = {}  # per short container id: the last cpu_stats

    def run(self) -> None:
        due = time.monotonic()
        while not self.stopping.is_set():
            self.read_once()
            due = max(due + self.interval, time.monotonic())
            self.stopping.wait(max(0.0, due - time.monotonic()))

    def read_once(self) -> None:
        read: set[str] = set()
        for name in list(self.names):  # the follower may add names (--label) meanwhile
            if self.stopping.is_set():
                return
            event = self.container_stats(name)
            if event is not None:
                self.out(event)
                read.add(event.origin.container_id)
        for container_id in set(self._previous_cpu) - read:  # gone or stopped: a later start counts afresh
            del self._previous_cpu[container_id]
        for path in self.disk_paths:
            self.out(disk_event(path, time.time_ns()))

    def container_stats(self, name: str) -> Event | None:
        import docker.errors

        try:
            info = find_container(self.client, name)
            if info is None or not info["State"].get("Running"):
                return None  # not there, or not running: nothing to measure, nothing to say
            raw: dict[str, Any] = self.client.api.stats(info["Id"], stream=False, one_shot=True)
        except docker.errors.NotFound:
            return None  # went away between the look-up and the reading
        except (docker.errors.DockerException, OSError, ValueError) as error:
            # a container removed during the reading answers an empty body (ValueError: no JSON): gone is quiet
            if self._gone(name):
                return None
            return stats_event(name, "", time.time_ns(), {"container": name, "error": str(error)})
        return stats_event(name, info["Id"], time.time_ns(), self.figures(name, info, raw))

    def _gone(self, name: str) -> bool:
        import docker.errors

        try:
            info = find_container(self.client, name)
        except (docker.errors.DockerException, OSError):
            return False  # the daemon is the problem: say so
        return info is None or not info["State"].get("Running")

    def figures(self, name: str, info: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        cpu_stats = raw.get("cpu_stats") or {}
        container_id = info["Id"][:12]
        fields: dict[str, Any] = {"container": name, "id": container_id}
        fields["memory"] = memory_figures(raw.get("memory_stats") or {})
        before = raw.get("precpu_stats") or {}
        if not (before.get("system_cpu_usage")):  # a one-shot reading: compare with our own previous one
            before = self._previous_cpu.get(container_id) or {}
        self._previous_cpu[container_id] = cpu_stats
        cpu: dict[str, Any] = {}
        percent = cpu_percent(cpu_stats, before)
        online = int(cpu_stats.get("online_cpus") or 1)
        cpu["limit_cpus"] = cpu_limit(info.get("HostConfig") or {}, online)
        if percent is not None:
            cpu["percent"] = percent
            cpu["limit_percent"] = round(percent / cpu["limit_cpus"], 2)
        fields["cpu"] = cpu
        fields["pids"] = (raw.get("pids_stats") or {}).get("current", 0)
        fields.update(io_figures(raw))
        return fields


def docker_root(client: Any) -> str | None:
    """Docker's data root on this host (`docker info`), or None when the daemon cannot be asked."""
    import docker.errors

    try:
        root = client.info().get("DockerRootDir")
    except (docker.errors.DockerException, OSError):
        return None
    return str(root) if root else None
