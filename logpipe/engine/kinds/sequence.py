"""A match not followed by another within a time, per key (a payment without its credits)."""

from __future__ import annotations

from typing import Any

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition, Values, field_getter
from logpipe.engine.kinds.base import MAX_GROUPS, CompiledRule, Group, RuleInfo, group_text, public_values, text_of
from logpipe.event import Event, format_time


class SequenceRule(CompiledRule):
    """`match` not followed by `then` with the same key within `within`: a payment accepted, no credits granted."""

    kind = "sequence"
    ignores_unmatched = False  # two conditions, each with its own copy of the values

    def __init__(self, info: RuleInfo, match: Condition, then: Condition, key: tuple[str, ...], within: int) -> None:
        super().__init__(info, match)
        self.then, self.within = then, within
        self.conditions["then"] = then
        self.captures = True  # observe copies values itself for each of its two conditions
        self._key_getters = tuple((name, field_getter(name)) for name in key)
        self.pending: dict[Group, tuple[int, Event, Values]] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        then_values = dict(values)
        if self.then.test(event, then_values):
            self.pending.pop(self._key(event, then_values), None)
        first_values = dict(values)
        if self.match.test(event, first_values):
            key = self._key(event, first_values)
            if key not in self.pending:
                if len(self.pending) >= MAX_GROUPS:
                    return self.overflow(event)
                self.pending[key] = (event.time + self.within, event, public_values(first_values))
        return []

    def tick(self, now: int) -> list[Alert]:
        due = sorted((deadline, key) for key, (deadline, _, _) in self.pending.items() if deadline <= now)
        alerts = []
        for deadline, key in due:
            _, event, values = self.pending.pop(key)
            alerts.append(
                self.alert(
                    "firing",
                    deadline,
                    key,
                    f"not followed within {format_duration(self.within)} "
                    f"({group_text(key)}): {event.message.split(chr(10), 1)[0]}",
                    event=event,
                    data=values,
                    window=self.within,
                    first_seen=event.time,
                    last_seen=deadline,
                )
            )
        return alerts

    def _key(self, event: Event, values: Values) -> Group:
        return tuple((name, text_of(get(event, values))) for name, get in self._key_getters)

    def state(self) -> dict[str, Any]:
        return {
            "within": format_duration(self.within),
            "waiting": {group_text(k): format_time(d) for k, (d, _, _) in self.pending.items()},
        }
