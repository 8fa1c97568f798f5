"""The kinds evaluated on a window at each tick (ratio, aggregate): levels, not edges."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition
from logpipe.engine.kinds.base import MAX_SAMPLES, CompiledRule, Group, RuleInfo, group_text
from logpipe.event import Event


@dataclass(slots=True)
class Firing:
    severity: str
    since: int


class WindowedRule(CompiledRule):
    """Evaluates each group every `evaluate_every` of event time; fires on crossing, escalates from warning to
    critical, and resolves when the value is back under the lowest level."""

    def __init__(
        self, info: RuleInfo, match: Condition, window: int, evaluate_every: int, levels: tuple[tuple[float, str], ...]
    ) -> None:
        super().__init__(info, match)
        self.window, self.every = window, evaluate_every
        self.levels = levels  # (limit, severity), highest limit first
        self.firing: dict[Group, Firing] = {}
        self.samples: dict[Group, deque[Event]] = {}
        self.next_evaluation: int | None = None
        self.last_values: dict[Group, tuple[float | None, int]] = {}

    def tick(self, now: int) -> list[Alert]:
        if self.next_evaluation is None:
            self.next_evaluation = (now // self.every + 1) * self.every
            return []
        if now < self.next_evaluation:
            return []
        at = now // self.every * self.every  # evaluate once at the latest boundary, even after a long gap
        self.next_evaluation = at + self.every
        alerts: list[Alert] = []
        for group in self.groups():
            value, size = self.measure(group, at)
            self.last_values[group] = (value, size)
            alerts.extend(self._decide(group, at, value, size))
        self.forget_before(at - self.window)
        return alerts

    def _decide(self, group: Group, at: int, value: float | None, size: int) -> list[Alert]:
        if value is None or not self.judged(size):
            return []  # too little data to say either way: neither fire nor clear (e.g. while the API is down)
        severity = self.level_of(value)
        samples = tuple(self.samples.get(group, ()))
        if severity is not None:
            self.firing[group] = Firing(severity, self.firing[group].since if group in self.firing else at)
        else:
            self.firing.pop(group, None)
        return [
            self.alert(
                "firing" if severity else "resolved",
                at,
                group,
                self.describe(value, size, severity),
                severity=severity or self.levels[-1][1],
                samples=samples,
                event=samples[-1] if samples and severity else None,
                value=value,
                count=self.hits(group, size),
                window=self.window,
                last_seen=at,
            )
        ]

    def hits(self, group: Group, size: int) -> int:
        """What an incident counts at this evaluation: the matching events in the window."""
        return size

    def level_of(self, value: float) -> str | None:
        for limit, severity in self.levels:
            if value > limit:
                return severity
        return None

    def _sample(self, group: Group, event: Event) -> None:
        samples = self.samples.get(group)
        if samples is None:
            samples = self.samples[group] = deque(maxlen=MAX_SAMPLES)
        samples.append(event)

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "levels": [list(level) for level in self.levels],
            "firing": {group_text(g): f.severity for g, f in self.firing.items()},
            "last_evaluation": {group_text(g): {"value": v, "size": s} for g, (v, s) in self.last_values.items()},
        }

    # what each windowed kind defines
    def groups(self) -> list[Group]:
        raise NotImplementedError

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        raise NotImplementedError

    def judged(self, size: int) -> bool:
        return True

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        raise NotImplementedError

    def forget_before(self, time: int) -> None:
        raise NotImplementedError
