"""The live view of `logpipe follow` with probes and container resources: each probe's state and latency, each
container's memory and CPU, rendered as a terminal shows them."""

from __future__ import annotations

import io

from rich.console import Console

from logpipe.console.liveview import ContainerRow, Snapshot, render
from logpipe.sources.probes.readings import ProbeRow, ResourceRow


def shown(snapshot: Snapshot) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(render(snapshot))
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_probes_and_resources_are_shown_under_the_containers() -> None:
    snapshot = Snapshot(
        [ContainerRow("clipforge-api", "following", 1200, 40.0, 0.2)],
        probes=[ProbeRow("api", False, "timeout", 5000.0), ProbeRow("db", True, "up (database down)", 12.4)],
        resources=[ResourceRow("clipforge-api", 56_311_808, 83.91, 49.3)],
    )
    lines = [line.split() for line in shown(snapshot).splitlines()]
    assert ["│", "probe", "api", "│", "timeout", "│", "5,000", "ms", "│", "│", "│"] in lines
    assert ["│", "probe", "db", "│", "up", "(database", "down)", "│", "12", "ms", "│", "│", "│"] in lines
    assert ["│", "clipforge-api", "│", "│", "│", "54", "MiB", "(84", "%)", "│", "49", "%", "│"] in lines


def test_without_probes_or_readings_the_view_is_unchanged() -> None:
    text = shown(Snapshot([ContainerRow("clipforge-api", "following", 10, 1.0, None)]))
    assert "probes and resources" not in text
    assert "clipforge-api" in text
