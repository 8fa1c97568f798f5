"""Notification: one message to the people on call about one incident (firing, update, resolved, flapping,
reminder). Immutable; its id is deterministic (the incident's id and the notification's number in it), so a
re-read after a restart makes the same ids and the outbox sends each once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from logpipe.event import Event, format_time

if TYPE_CHECKING:
    from logpipe.alert import Alert
    from logpipe.engine.kinds.base import RuleInfo
    from logpipe.incidents.incident import Incident

KINDS = ("firing", "update", "resolved", "flapping", "reminder")


@dataclass(frozen=True, slots=True)
class SummaryField:
    """The distinct values one `summary:` field took in an incident, most frequent first, bounded."""

    name: str
    values: tuple[tuple[str, int], ...]  # the most frequent (value, count)
    distinct: int  # how many distinct values were seen (at most the tracking limit)
    more: int  # distinct values not listed in `values`

    def text(self) -> str:
        """`7 users: usr_1 x4, usr_2 x2, ... and 5 more` (the field's last name part, plural past one)."""
        noun = self.name.rsplit(".", 1)[-1] + ("s" if self.distinct != 1 else "")
        shown = ", ".join(f"{value} x{count}" for value, count in self.values)
        return f"{self.distinct} {noun}: {shown}" + (f", ... and {self.more} more" if self.more else "")


@dataclass(frozen=True, slots=True)
class SymptomTally:
    """A symptom folded into a cause: which rule, how many of its matches, and what it last said."""

    rule: str
    title: str
    count: int
    detail: str = ""

    def text(self) -> str:
        return f"{self.count} x {self.title}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    incident: str  # the incident's id: one Sentry issue, one PagerDuty dedup key
    kind: str  # firing | update | resolved | flapping | reminder
    rule: str
    title: str
    severity: str
    time: int  # event time (ns) of the decision
    group: tuple[tuple[str, str], ...]
    message: str
    count: int  # matches since the incident's previous notification
    total: int  # matches in the incident so far
    first_seen: int
    last_seen: int
    value: float | None = None
    window: int | None = None
    reason: str = ""  # why an update or reminder went out
    summary: tuple[SummaryField, ...] = ()
    symptoms: tuple[SymptomTally, ...] = ()
    folded_into: str | None = None  # a symptom's notification kept for the cause's Sentry trail only
    event: Event | None = None
    samples: tuple[Event, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    runbook: str = ""
    actions: tuple[str, ...] = ()
    sentry: str = "event"
    fingerprint: tuple[str, ...] = ()
    template: str | None = None
    silenced: str | None = None  # the silence (or maintenance window) that holds it back: recorded, not sent
    labels: Mapping[str, str] = field(default_factory=dict)  # the rule's fixed labels (`labels:`)

    @property
    def status(self) -> str:
        return self.kind

    @property
    def group_key(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.group)

    def to_dict(self) -> dict[str, Any]:
        """The notification as JSON-ready values (what sinks and templates get; every exit redacts this dict)."""

        stack = self.event.stack if self.event is not None else None
        return {
            "id": self.id,
            "incident": self.incident,
            "rule": self.rule,
            "severity": self.severity,
            "status": self.kind,
            "reason": self.reason,
            "title": self.title,
            "time": format_time(self.time),
            "group": dict(self.group),
            "count": self.count,
            "total": self.total,
            "message": self.message,
            "value": self.value,
            "window_seconds": None if self.window is None else self.window / 1e9,
            "first_seen": format_time(self.first_seen),
            "last_seen": format_time(self.last_seen),
            "duration_seconds": round(max(0, self.last_seen - self.first_seen) / 1e9, 3),
            "summary": [
                {
                    "field": item.name,
                    "values": [{"value": value, "count": count} for value, count in item.values],
                    "distinct": item.distinct,
                    "more": item.more,
                }
                for item in self.summary
            ],
            "summary_text": "; ".join(item.text() for item in self.summary),
            "symptoms": [
                {"rule": s.rule, "title": s.title, "count": s.count, "detail": s.detail} for s in self.symptoms
            ],
            "symptoms_text": ", ".join(s.text() for s in self.symptoms),
            "folded_into": self.folded_into,
            "data": dict(self.data),
            "runbook": self.runbook,
            "description": self.description,
            "container": self.event.origin.name if self.event is not None else "",
            "stack": stack or None,
            "sentry": self.sentry,
            "fingerprint": list(self.fingerprint),
            "template": self.template,
            "event": self.event.to_dict() if self.event is not None else None,
            "samples": [sample.to_dict() for sample in self.samples],
            **({"labels": dict(self.labels)} if self.labels else {}),  # only a rule that has some: as before
        }

    @classmethod
    def standalone(cls, alert: Alert) -> Notification:
        """A notice about logpipe itself (a rule disabled, the outbox full): one message, no incident around it."""
        return cls(
            id=alert.id,
            incident=alert.id,
            kind=alert.status,
            rule=alert.rule,
            title=alert.title,
            severity=alert.severity,
            time=alert.time,
            group=alert.group,
            message=alert.message,
            count=alert.count,
            total=alert.count,
            first_seen=alert.first_seen or alert.time,
            last_seen=alert.last_seen or alert.time,
            value=alert.value,
            window=alert.window,
            event=alert.event,
            samples=alert.samples,
            data=alert.data,
            description=alert.description,
            runbook=alert.runbook,
            actions=alert.actions,
            sentry=alert.sentry,
            fingerprint=alert.fingerprint,
            template=alert.template,
        )


def symptom_breadcrumb(
    symptom: Incident, title: str, cause: Incident, now: int, message: str, event: Event | None
) -> Notification:
    """A symptom folded into its cause is not sent on its own: Sentry gets it as a breadcrumb on the cause's trail
    (its matches are counted on the cause, so this one counts none)."""
    return Notification(
        id=notification_id(symptom.id, symptom.seq, "folded"),
        incident=symptom.id,
        kind="firing",
        rule=symptom.rule,
        title=title,
        severity="info",
        time=now,
        group=symptom.group,
        message=message.split("\n", 1)[0],
        count=0,
        total=symptom.total,
        first_seen=symptom.opened,
        last_seen=now,
        reason=f"folded into {cause.rule}",
        folded_into=cause.id,
        event=event,
        actions=("sentry",),
        sentry="breadcrumb",
    )


def incident_id(rule: str, group: tuple[tuple[str, str], ...], opened: int) -> str:
    """32 hex digits from the rule, the group and when the incident opened (event time): a replay of the same log
    gives the same incidents."""
    return _digest(rule, repr(group), str(opened))


def notification_id(incident: str, number: int, kind: str) -> str:
    """The incident's n-th notification: the same after a restart re-reads the lines that made it."""
    return _digest(incident, str(number), kind)


def _digest(*parts: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


SUMMARY_SHOWN = 5  # values listed per summary field


def incident_notification(
    incident: Incident, info: RuleInfo, kind: str, now: int, count: int, total: int, reason: str, silenced: str | None
) -> Notification:
    """What people are told about an incident now (its `seq`-th notification, of this kind): its counts, its
    summary and folded symptoms, the rule's texts and where it goes."""
    return Notification(
        id=notification_id(incident.id, incident.seq, kind),
        incident=incident.id,
        kind=kind,
        rule=incident.rule,
        title=info.title,
        severity=incident.severity,
        time=now,
        group=incident.group,
        message=_message(incident, kind),
        count=count,
        total=total,
        first_seen=incident.opened,
        last_seen=max(incident.last_seen, incident.opened),
        value=incident.value,
        window=incident.window,
        reason=reason,
        summary=_summary(incident),
        symptoms=tuple(
            SymptomTally(rule_id, title, tally, detail)
            for rule_id, (title, tally, detail) in sorted(incident.symptoms.items())
        ),
        event=incident.event,
        samples=tuple(incident.samples),
        data=dict(incident.data),
        description=info.description,
        runbook=info.runbook,
        actions=info.actions,
        sentry=_sentry_mode(info.sentry, incident.severity, kind),
        fingerprint=info.fingerprint,
        template=info.template,
        silenced=silenced,
        labels=info.model.labels,
    )


def _message(incident: Incident, kind: str) -> str:
    first = incident.message.split("\n", 1)[0]
    if kind == "flapping":
        return f"flapping: its state changed {len(incident.changes)} times; quiet until it is stable. {first}"
    return first


def _summary(incident: Incident) -> tuple[SummaryField, ...]:
    fields = []
    for name, counts in incident.summary.items():
        top = tuple(counts.most_common(SUMMARY_SHOWN))
        distinct = len(counts) + incident.summary_overflow.get(name, 0)
        fields.append(SummaryField(name, top, distinct, distinct - len(top)))
    return tuple(fields)


def _sentry_mode(chosen: str | None, severity: str, kind: str) -> str:
    """Critical incidents are Sentry events (updates too: one issue, its count growing), the rest breadcrumbs on
    the container's trail (a rule may choose); a resolution is a breadcrumb."""
    if chosen == "off":
        return "off"
    if kind == "resolved":
        return "breadcrumb"
    return chosen or ("event" if severity == "critical" else "breadcrumb")
