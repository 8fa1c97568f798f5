"""Alerts for a person at a terminal: one block per alert, severity coloured."""

from __future__ import annotations

from typing import TextIO

import click

from logpipe.alert import Alert
from logpipe.event import format_time
from logpipe.redact import Redactor

_STYLE = {"critical": {"fg": "red", "bold": True}, "warning": {"fg": "yellow"}, "info": {"fg": "cyan"}}


class ConsoleSink:
    name = "console"

    def __init__(self, out: TextIO, color: bool, redactor: Redactor | None) -> None:
        self.out, self.color, self.redactor = out, color, redactor

    def deliver(self, alert: Alert) -> None:
        self.out.write(render_alert(alert, self.color, self.redactor) + "\n")
        self.out.flush()


def render_alert(alert: Alert, color: bool, redactor: Redactor | None) -> str:
    text = redactor.text if redactor else (lambda s: s)
    status = "RESOLVED" if alert.status == "resolved" else alert.severity.upper()
    head = f"{format_time(alert.time)[:23]}Z {status:<8} {alert.rule}  {alert.title}"
    if color:
        style = {"fg": "green"} if alert.status == "resolved" else _STYLE.get(alert.severity, {})
        head = click.style(head, **style)  # type: ignore[arg-type]
    facts = [f"count {alert.count}"]
    if alert.suppressed:
        facts.append(f"{alert.suppressed} suppressed since the previous alert")
    if alert.group:
        facts.insert(0, alert.group_key)
    lines = [head, f"    {text(alert.message)}", f"    {' · '.join(facts)}"]
    if alert.status == "firing" and alert.runbook:
        lines.append(f"    runbook: {alert.runbook.strip()}")
    return "\n".join(lines)
