"""Incident: one (rule, group) problem from its first match to its resolution, as the incident book keeps it, and
the record the state store saves of it (everything but the events, which a restart does not need)."""

from __future__ import annotations

import functools
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from logpipe.event import Event
from logpipe.redact import Redactor

if TYPE_CHECKING:
    from logpipe.alert import Alert

Group = tuple[tuple[str, str], ...]
MAX_SAMPLES = 3


@dataclass(slots=True)
class Incident:
    id: str
    rule: str
    group: Group
    opened: int
    counted: bool
    severity: str
    labels: dict[str, str]
    total: int = 0
    unreported: int = 0  # matches since the previous notification (counted rules)
    last_seen: int = 0
    seq: int = 0  # notifications made
    last_notified: int | None = None
    next_update: int | None = None
    wait_until: int = 0  # group_wait: the first notification waits until then
    started: bool = False  # its first notification (firing) was made
    level: str | None = None  # stateful: the level of the latest evaluation, None when clear
    pending_since: int | None = None
    clear_since: int | None = None
    changes: deque[int] = field(default_factory=deque)  # times the level changed, for flap detection
    flapping: bool = False
    notified_levels: set[str] = field(default_factory=set)
    value: float | None = None
    count: int = 0  # stateful: the matches in the window at the latest evaluation
    window: int | None = None
    message: str = ""
    event: Event | None = None
    samples: deque[Event] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    data: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Counter[str]] = field(default_factory=dict)
    summary_overflow: dict[str, int] = field(default_factory=dict)
    symptoms: dict[str, list[Any]] = field(default_factory=dict)  # rule -> [title, count, detail]
    symptoms_new: bool = False
    folded_into: str | None = None
    closed: int | None = None
    last_kind: str = ""
    last_outcome: str = ""  # sent | silenced by ... | folded into ...

    def to_record(self) -> dict[str, Any]:
        """What the state store keeps (and `logpipe incidents` shows): everything but the events."""
        return {
            "id": self.id,
            "rule": self.rule,
            "group": [list(pair) for pair in self.group],
            "opened": self.opened,
            "counted": self.counted,
            "severity": self.severity,
            "labels": self.labels,
            "total": self.total,
            "unreported": self.unreported,
            "last_seen": self.last_seen,
            "seq": self.seq,
            "last_notified": self.last_notified,
            "next_update": self.next_update,
            "wait_until": self.wait_until,
            "started": self.started,
            "level": self.level,
            "pending_since": self.pending_since,
            "clear_since": self.clear_since,
            "changes": list(self.changes),
            "flapping": self.flapping,
            "notified_levels": sorted(self.notified_levels),
            "value": self.value,
            "count": self.count,
            "window": self.window,
            "message": self.message,
            "data": self.data,
            "summary": {name: dict(values) for name, values in self.summary.items()},
            "summary_overflow": self.summary_overflow,
            "symptoms": self.symptoms,
            "symptoms_new": self.symptoms_new,
            "folded_into": self.folded_into,
            "closed": self.closed,
            "last_kind": self.last_kind,
            "last_outcome": self.last_outcome,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Incident:
        values = dict(record)
        values["group"] = tuple((str(k), str(v)) for k, v in values["group"])
        values["changes"] = deque(values["changes"])
        values["notified_levels"] = set(values["notified_levels"])
        values["summary"] = {name: Counter(counts) for name, counts in values["summary"].items()}
        return cls(**values)


SUMMARY_TRACKED = 1_000  # distinct values counted per field; more are counted as overflow


def note_alert(
    incident: Incident,
    alert: Alert,
    summary: Sequence[tuple[str, Callable[[Event, dict[str, Any]], Any]]],
    counted: bool,
) -> None:
    """What an alert adds to its incident: the latest message, value, window and data, its samples, and the
    values of the rule's summary fields counted (a counted rule's matches, an evaluation once)."""
    incident.message = alert.message
    if alert.value is not None:
        incident.value = alert.value
    if alert.window is not None:
        incident.window = alert.window
    if alert.data:
        incident.data = dict(alert.data)
    if alert.samples:
        incident.samples.extend(sample for sample in alert.samples if sample not in incident.samples)
    elif alert.event is not None and alert.event is not incident.event:
        incident.samples.append(alert.event)
    if alert.event is not None:
        incident.event = alert.event
        data = dict(alert.data)
        for name, get in summary:
            value = get(alert.event, data)
            if value is None:
                continue
            counts = incident.summary.setdefault(name, Counter())
            text = str(value)
            if text in counts or len(counts) < SUMMARY_TRACKED:
                counts[text] += alert.count if counted else 1
            else:
                incident.summary_overflow[name] = incident.summary_overflow.get(name, 0) + 1


#: what a record holds that came from logs and is only ever shown (restored, it is shown again)
SHOWN_TEXTS = ("message", "data", "summary", "symptoms")


@functools.cache
def _redactor() -> Redactor:
    return Redactor()


def stored_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the state store keeps it: the texts that came from logs redacted (SHOWN_TEXTS). The group and
    labels stay as they are: they are the incident's identity across a restart and what silences match; wherever
    a record is shown it is redacted whole (incidents/views.py `shown`)."""
    redactor = _redactor()
    return {**record, **{key: redactor.payload(record[key]) for key in SHOWN_TEXTS}}
