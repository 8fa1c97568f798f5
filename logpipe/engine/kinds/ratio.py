"""The share of the base's events that match, over a window (an error rate)."""

from __future__ import annotations

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition, Values
from logpipe.engine.kinds.base import MAX_GROUPS, Group, RuleInfo
from logpipe.engine.kinds.windowed import WindowedRule
from logpipe.engine.windows import BucketCounts
from logpipe.event import Event


class RatioRule(WindowedRule):
    """`match` events among `base` events within the window: 5xx responses among all responses."""

    kind = "ratio"
    ignores_unmatched = False  # every base event counts

    def __init__(
        self,
        info: RuleInfo,
        match: Condition,
        base: Condition,
        window: int,
        evaluate_every: int,
        levels: tuple[tuple[float, str], ...],
        min_base: int,
    ) -> None:
        super().__init__(info, match, window, evaluate_every, levels)
        self.base, self.min_base = base, min_base
        self.conditions["base"] = base
        self.captures = match.captures or base.captures
        self.counts: dict[Group, BucketCounts] = {}
        self._hits: dict[Group, int] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.base.test(event, values):
            return []
        group = self.group_of(event, values)
        counts = self.counts.get(group)
        if counts is None:
            if len(self.counts) >= MAX_GROUPS:
                return self.overflow(event)
            counts = self.counts[group] = BucketCounts(self.every)
        hit = self.match.test(event, values)
        counts.add(event.time, hit)
        if hit:
            self._sample(group, event)
        return []

    def groups(self) -> list[Group]:
        return list(self.counts)

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        hits, total = self.counts[group].window(at, self.window)
        self._hits[group] = hits
        return (hits / total if total else None), total

    def hits(self, group: Group, size: int) -> int:
        return self._hits.get(group, 0)

    def judged(self, size: int) -> bool:
        return size >= self.min_base

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        shown = "n/a" if value is None else f"{value:.1%}"
        state = f"above {self._limit_for(severity):.0%}" if severity else "back under the threshold"
        return f"{shown} of {size} events in the last {format_duration(self.window)} matched ({state})"

    def _limit_for(self, severity: str | None) -> float:
        return next(limit for limit, level in self.levels if level == severity)

    def forget_before(self, time: int) -> None:
        for group, counts in list(self.counts.items()):
            counts.drop_before(time)
            if not counts.buckets and not counts.others and group not in self.firing:
                del self.counts[group]
                self._hits.pop(group, None)
