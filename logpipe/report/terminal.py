"""The report's summary on the terminal: the same figures as the HTML page, as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from logpipe.report.bounded import TIMELINE_LISTED
from logpipe.report.bounded import top as top_of
from logpipe.report.collect import Report
from logpipe.report.html import _iso


def print_summary(report: Report, console: Console) -> None:
    overview = Table(title=f"logpipe report: {report.source}", show_header=False)
    overview.add_column(style="bold")
    overview.add_column(justify="right")
    span = f"{_iso(report.first)} to {_iso(report.last)} UTC" if report.first and report.last else "empty"
    p95 = f"{report.p95_ms:.0f} ms" if report.p95_ms is not None else "-"
    share = f"{100 * report.server_errors / report.requests:.1f} %" if report.requests else "-"
    for name, value in (
        ("period", span),
        ("events", str(report.events)),
        ("requests", str(report.requests)),
        ("5xx responses", f"{report.server_errors} ({share})"),
        ("p95 latency", p95),
        ("incidents", str(report.incidents)),
        ("notifications", "-" if report.from_state else str(len(report.notifications))),
        ("payment webhook failures", str(report.payments.total)),
        ("credit deduction failures", str(report.credits.total)),
        *((f"{name} connection errors", str(count)) for name, count in sorted(report.connection_errors.items())),
    ):
        overview.add_row(name, value)
    console.print(overview)
    for note in report.notes:
        console.print(note, style="dim")

    timeline = Table(title="Incident timeline")
    for column in ("time (UTC)", "notification", "severity", "rule"):
        timeline.add_column(column)
    for entry in report.timeline[:TIMELINE_LISTED]:
        style = "red" if entry.severity == "critical" and entry.status in ("firing", "update") else None
        timeline.add_row(_iso(entry.time), entry.status, entry.severity, entry.key, style=style)
    console.print(timeline)
    if len(report.timeline) > TIMELINE_LISTED:
        console.print(f"+{len(report.timeline) - TIMELINE_LISTED:,} more notifications", style="dim")

    top = Table(title="Top exceptions and error messages")
    top.add_column("exception type or error message")
    top.add_column("count", justify="right")
    for name, count in report.exceptions.most_common(5):
        top.add_row(f"[bold]{name}[/bold]", str(count))
    for message, count in report.error_messages.most_common(5):
        top.add_row(message, str(count))
    console.print(top)

    failures = Table(title="Payment and credit failures")
    for column in ("kind", "by", "count", "users affected"):
        failures.add_column(column)
    for kind, group in (("payment webhook", report.payments), ("credit deduction", report.credits)):
        shown, more = top_of((group.users,), 5)
        users = (", ".join(user for user, _ in shown) or "-") + (f" +{more:,} more" if more else "")
        for label, count in group.by_label.items():
            failures.add_row(kind, label, str(count), users)
    console.print(failures)
    if report.probes:
        probes = Table(title="Probe uptime")
        for column in ("probe", "up", "checks"):
            probes.add_column(column)
        for name, (up, checks) in sorted(report.probes.items()):
            probes.add_row(name, str(up), str(checks))
        console.print(probes)
