"""Incident records as people read them: one line per incident, for the replay's summary and `logpipe incidents`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from logpipe.console.inert import inert
from logpipe.event import format_time
from logpipe.redact import Redactor


def shown(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as they may leave logpipe (/incidents, `logpipe incidents --json`, the table): redacted whole. The
    store keeps the group and labels unredacted (an incident's identity); here they are redacted too."""
    redactor = Redactor()
    return [redactor.payload(record) for record in records]


def incident_table(records: Sequence[dict[str, Any]]) -> str:
    """One line per incident (a record as the state store keeps it: Incident.to_record), folded symptoms below
    their cause."""
    if not records:
        return "no incidents\n"
    header = f"{'rule':<36} {'state':<9} {'severity':<8} {'total':>6} {'opened':<20} {'last notification':<24} group"
    lines = [header]
    for record in records:
        state = "closed" if record["closed"] is not None else ("flapping" if record["flapping"] else "open")
        if record["folded_into"] and record["closed"] is None:
            state = "folded"
        last = f"{record['last_kind'] or '-'}: {record['last_outcome'] or '-'}"
        # group values come from logs (messages, captures): redacted, and inert on a terminal
        group = inert(Redactor().text(",".join(f"{k}={v}" for k, v in record["group"]))) or "-"
        lines.append(
            f"{record['rule']:<36} {state:<9} {record['severity']:<8} {_total(record):>6} "
            f"{format_time(record['opened'])[:19]:<20} {last[:24]:<24} {group}"
        )
        if record["symptoms"]:
            folded = ", ".join(f"{count} x {rule}" for rule, (_, count, _) in sorted(record["symptoms"].items()))
            lines.append(f"{'':<36}   symptoms folded in: {folded}")
    return "\n".join(lines) + "\n"


def _total(record: dict[str, Any]) -> int:
    return int(record["total"] if record["counted"] else record["count"])
