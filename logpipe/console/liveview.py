"""The view `logpipe follow` keeps on a terminal: each followed container with what it is doing, its lines and
lines/s, and the alerts fired, redrawn in place twice a second. Alerts and logpipe's own log lines are printed
above it as they come (rich redirects stdout and stderr while the view is up). Off a terminal there is no view:
alerts are JSON lines and logpipe's log is plain structured lines."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from logpipe.console.inert import inert
from logpipe.sources.probes.readings import ProbeRow, ResourceRow


@dataclass(frozen=True, slots=True)
class ContainerRow:
    name: str
    state: str  # following | exited, waiting for a start | no such container yet | docker unavailable ...
    lines: int
    lines_per_second: float
    lag_seconds: float | None  # now minus the Docker time of the last line read


@dataclass(frozen=True, slots=True)
class Snapshot:
    containers: list[ContainerRow]
    alerts_by_rule: collections.Counter[str] = field(default_factory=collections.Counter)
    problems: dict[str, str] = field(default_factory=dict)
    probes: list[ProbeRow] = field(default_factory=list)  # each probe's last check
    resources: list[ResourceRow] = field(default_factory=list)  # each container's last stats reading


class LiveView:
    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream)
        self._live = Live(console=self.console, auto_refresh=False, redirect_stdout=True, redirect_stderr=True)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._live.stop()

    def show(self, snapshot: Snapshot) -> None:
        self._live.update(render(snapshot), refresh=True)


def render(snapshot: Snapshot) -> Group:
    table = Table(title="logpipe follow", title_justify="left", expand=False)
    for heading, justify in (("container", "left"), ("state", "left"), ("lines", "right"), ("lines/s", "right")):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    table.add_column("lag", justify="right")
    for row in snapshot.containers:
        style = "green" if row.state.startswith("following") else "yellow"
        lag = "-" if row.lag_seconds is None else f"{row.lag_seconds:.1f} s"
        # names, states and reasons can carry text from outside (a container name, a daemon's error): inert
        table.add_row(
            Text(inert(row.name)), Text(inert(row.state), style), f"{row.lines:,}", f"{row.lines_per_second:,.0f}", lag
        )
    fired = sum(snapshot.alerts_by_rule.values())
    summary = Text(f"alerts fired: {fired}", style="bold red" if fired else "")
    if fired:
        top = ", ".join(f"{inert(rule)} {count}" for rule, count in snapshot.alerts_by_rule.most_common(5))
        summary.append(f"  ({top})", style="")
    parts: list[Table | Text] = [table]
    if snapshot.probes or snapshot.resources:
        parts.append(_readings_table(snapshot))
    parts.append(summary)
    for component, reason in sorted(snapshot.problems.items()):
        parts.append(Text(f"degraded: {inert(component)}: {inert(reason)}", style="yellow"))
    return Group(*parts)


def _readings_table(snapshot: Snapshot) -> Table:
    table = Table(title="probes and resources", title_justify="left", expand=False)
    for heading, justify in (("name", "left"), ("state", "left"), ("latency", "right")):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    table.add_column("memory", justify="right")
    table.add_column("CPU", justify="right")
    for probe in snapshot.probes:
        style = "green" if probe.ok and "down" not in probe.state else "red"
        table.add_row(f"probe {probe.name}", Text(probe.state, style), f"{probe.duration_ms:,.0f} ms", "", "")
    for row in snapshot.resources:
        memory = f"{row.memory_used / 1048576:,.0f} MiB"
        if row.memory_percent is not None:
            memory += f" ({row.memory_percent:.0f} %)"
        cpu = "-" if row.cpu_percent is None else f"{row.cpu_percent:.0f} %"
        table.add_row(row.container, "", "", memory, cpu)
    return table
