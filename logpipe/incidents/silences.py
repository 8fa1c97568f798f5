"""Silences and maintenance windows: notifications they match are recorded but not sent (Alertmanager's
silences). A silence names a rule (or `*`) and field=value matchers on the incident's labels (its group, the
container, extracted data), and lasts from `starts` to `ends`; it lives in the state store, so a running
follower honours one added from another shell at once. Maintenance windows recur (from the config)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import structlog

log = structlog.get_logger("logpipe.silences")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    rule: str  # a rule id, or "*" for every rule
    matchers: tuple[tuple[str, str], ...]  # label = value, all must hold
    starts: int  # ns since the epoch (wall clock)
    ends: int
    reason: str
    created_by: str = ""

    @classmethod
    def new(
        cls, rule: str, matchers: Mapping[str, str], starts: int, ends: int, reason: str, created_by: str = ""
    ) -> Silence:
        return cls(uuid.uuid4().hex[:12], rule, tuple(sorted(matchers.items())), starts, ends, reason, created_by)

    def active(self, now: int) -> bool:
        return self.starts <= now < self.ends

    def matches(self, rule: str, labels: Mapping[str, str]) -> bool:
        return (self.rule in ("*", rule)) and all(labels.get(key) == value for key, value in self.matchers)

    def describe(self) -> str:
        matched = ", ".join(f"{k}={v}" for k, v in self.matchers)
        return f"silence {self.id} ({self.rule}{' ' + matched if matched else ''}: {self.reason})"


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A recurring window: on `days` (mon..sun; empty: every day) from `start` (HH:MM in `timezone`) for
    `duration`, the rules listed (empty: all) that match `match` are silenced."""

    name: str
    start: dt.time
    duration: int  # ns
    timezone: str = "UTC"
    days: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    match: tuple[tuple[str, str], ...] = field(default=())

    def active(self, now: int) -> bool:
        zone = ZoneInfo(self.timezone)
        local = dt.datetime.fromtimestamp(now / 1e9, tz=zone)
        # a window that began yesterday may still be open: look at today's and the previous days' starts
        for days_back in range(1 + int(self.duration // 86_400_000_000_000) + 1):
            day = local.date() - dt.timedelta(days=days_back)
            if self.days and WEEKDAYS[day.weekday()] not in self.days:
                continue
            began = dt.datetime.combine(day, self.start, tzinfo=zone)
            elapsed = (local - began).total_seconds() * 1e9
            if 0 <= elapsed < self.duration:
                return True
        return False

    def matches(self, rule: str, labels: Mapping[str, str]) -> bool:
        if self.rules and rule not in self.rules:
            return False
        return all(labels.get(key) == value for key, value in self.match)

    def describe(self) -> str:
        return f"maintenance window {self.name}"


class SilenceList:
    """The silences and maintenance windows in force; `refresh` replaces the silences (read from the store)."""

    def __init__(self, silences: Sequence[Silence] = (), windows: Sequence[MaintenanceWindow] = ()) -> None:
        self.silences, self.windows = list(silences), list(windows)

    def refresh(self, silences: Sequence[Silence]) -> None:
        """Replace the silences; when that changes which are in force, say so (an operator's `logpipe silence
        add` or `expire` in another shell is taken up here)."""
        before = {silence.id for silence in self.silences}
        self.silences = list(silences)
        now = {silence.id for silence in self.silences}
        if now != before:
            log.info("silences in force", ids=sorted(now), added=sorted(now - before), ended=sorted(before - now))

    def holding(self, rule: str, labels: Mapping[str, Any], now: int) -> str | None:
        """What silences a notification of this rule with these labels at `now` (wall clock), or None."""
        text_labels = {key: str(value) for key, value in labels.items()}
        for silence in self.silences:
            if silence.active(now) and silence.matches(rule, text_labels):
                return silence.describe()
        for window in self.windows:
            if window.matches(rule, text_labels) and window.active(now):
                return window.describe()
        return None
