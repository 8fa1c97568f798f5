"""A function (count, sum, avg, min, max, percentiles) of a field over a window."""

from __future__ import annotations

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition, Values, field_getter
from logpipe.engine.kinds.base import MAX_GROUPS, Group, RuleInfo
from logpipe.engine.kinds.windowed import WindowedRule
from logpipe.engine.windows import BucketValues
from logpipe.event import Event


class AggregateRule(WindowedRule):
    """A statistic of a numeric field within the window: p95 of http.duration_ms above 5000."""

    kind = "aggregate"

    def __init__(
        self,
        info: RuleInfo,
        match: Condition,
        value_field: str,
        function: str,
        window: int,
        evaluate_every: int,
        levels: tuple[tuple[float, str], ...],
        min_count: int,
    ) -> None:
        super().__init__(info, match, window, evaluate_every, levels)
        self.value_field, self.function, self.min_count = value_field, function, min_count
        self.get_value = field_getter(value_field)
        self.values: dict[Group, BucketValues] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        raw = self.get_value(event, values)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return []
        group = self.group_of(event, values)
        slots = self.values.get(group)
        if slots is None:
            if len(self.values) >= MAX_GROUPS:
                return self.overflow(event)
            slots = self.values[group] = BucketValues(self.every, self.function[0] == "p")
        slots.add(event.time, float(raw))
        if self.levels and raw > self.levels[-1][0]:
            self._sample(group, event)
        return []

    def groups(self) -> list[Group]:
        return list(self.values)

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        return self.values[group].aggregate(at, self.window, self.function)

    def judged(self, size: int) -> bool:
        return size >= self.min_count

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        shown = "n/a" if value is None else f"{value:,.0f}"
        limit = next((lim for lim, level in self.levels if level == severity), self.levels[-1][0])
        state = f"above {limit:,.0f}" if severity else f"back under {self.levels[-1][0]:,.0f}"
        return (
            f"{self.function} of {self.value_field} = {shown} over {size} events in the last "
            f"{format_duration(self.window)} ({state})"
        )

    def forget_before(self, time: int) -> None:
        for group, slots in list(self.values.items()):
            slots.drop_before(time)
            if not slots.buckets and not slots.others and group not in self.firing:
                del self.values[group]
