"""A count of matches within a sliding window, per group."""

from __future__ import annotations

from collections import deque
from typing import Any

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition, Values
from logpipe.engine.kinds.base import MAX_GROUPS, MAX_SAMPLES, CompiledRule, Group, RuleInfo, group_text, public_values
from logpipe.engine.windows import SlidingTimes
from logpipe.event import Event


class ThresholdRule(CompiledRule):
    """`count` matches within `window`: once reached, the matches in the window are reported (each once), and
    every further match while the count holds."""

    kind = "threshold"

    def __init__(self, info: RuleInfo, match: Condition, count: int, window: int) -> None:
        super().__init__(info, match)
        self.count, self.window = count, window
        self.recent: dict[Group, SlidingTimes] = {}
        self.samples: dict[Group, deque[Event]] = {}
        self.reported: dict[Group, int] = {}  # how many of the window's newest matches were already reported

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        group = self.group_of(event, values)
        times = self.recent.get(group)
        if times is None:
            if len(self.recent) >= MAX_GROUPS:
                self._expire(event.time)
                if len(self.recent) >= MAX_GROUPS:
                    return self.overflow(event)
            times = self.recent[group] = SlidingTimes(self.window)
            self.samples[group] = deque(maxlen=MAX_SAMPLES)
        in_window = times.add(event.time)
        reported = min(self.reported.get(group, 0), in_window - 1)  # the oldest may have left the window
        self.samples[group].append(event)
        if in_window < self.count:
            self.reported[group] = reported
            return []
        new = in_window - reported
        self.reported[group] = in_window
        message = (
            f"{in_window} matching events within {format_duration(self.window)} "
            f"(threshold {self.count}): {event.message.split(chr(10), 1)[0]}"
        )
        return [
            self.alert(
                "firing",
                event.time,
                group,
                message,
                event=event,
                samples=tuple(self.samples[group]),
                data=public_values(values),
                count=new,
                window=self.window,
                value=float(in_window),
                first_seen=times.times[0],
                last_seen=event.time,
            )
        ]

    def _expire(self, now: int) -> None:
        for group in [g for g, t in self.recent.items() if not t.times or now - t.times[-1] > self.window]:
            del self.recent[group]
            self.samples.pop(group, None)
            self.reported.pop(group, None)

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "threshold": self.count,
            "in_window": {group_text(g): len(t.times) for g, t in self.recent.items()},
        }
