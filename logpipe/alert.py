"""Alert: what a rule saw, as the engine reports it to the incident book: a match (counted kinds) or the level a
window reached at an evaluation (`firing` with a severity, or `resolved`: clear). The book decides what people
are told (logpipe/incidents/). Immutable."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logpipe.event import Event

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    title: str
    severity: str  # info | warning | critical
    status: str  # firing | resolved
    time: int  # event time (ns) at which the condition held, or cleared
    group: tuple[tuple[str, str], ...]  # the group_by fields and their values; () for an ungrouped rule
    message: str  # one human line: what happened
    count: int = 1  # matches this alert reports (counted kinds), or matching events in the window (windowed)
    window: int | None = None  # ns
    first_seen: int | None = None
    last_seen: int | None = None
    value: float | None = None  # the ratio, percentile or count that crossed the threshold
    event: Event | None = None  # the triggering event
    samples: tuple[Event, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)  # extracted fields and regex captures
    description: str = ""
    runbook: str = ""
    actions: tuple[str, ...] = ()
    sentry: str = "event"  # event | breadcrumb | off
    fingerprint: tuple[str, ...] = ()  # Sentry fingerprint templates; () = rule id and group
    template: str | None = None  # the rule's template set
    id: str = ""  # set for logpipe's own notices (a rule disabled): deterministic, the same input the same id


def alert_id(rule: str, group: tuple[tuple[str, str], ...], status: str, time: int, event: Event | None) -> str:
    """32 hex digits (a valid Sentry event id) from what identifies this alert: the same log gives the same id."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (rule, repr(group), status, str(time)):
        digest.update(part.encode())
        digest.update(b"\x00")
    if event is not None:
        digest.update(f"{event.docker_time}|{event.origin.container_id}|{event.origin.stream}|".encode())
        digest.update(event.raw.encode("utf-8", "replace"))
    return digest.hexdigest()
