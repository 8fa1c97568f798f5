"""Too few matches over a window: silence is the signal (the API going quiet)."""

from __future__ import annotations

from typing import Any

from logpipe.alert import Alert
from logpipe.config.durations import format_duration
from logpipe.engine.conditions import Condition, Values
from logpipe.engine.kinds.base import MAX_GROUPS, CompiledRule, Group, RuleInfo, group_text
from logpipe.engine.windows import SlidingTimes
from logpipe.event import Event, format_time


class AbsenceRule(CompiledRule):
    """Fewer than `min_count` matching events within the window: the API stopped logging requests.
    Counting starts at the first watermark, so a replay does not fire before it has seen a whole window."""

    kind = "absence"

    def __init__(self, info: RuleInfo, match: Condition, window: int, min_count: int) -> None:
        super().__init__(info, match)
        self.window, self.min_count = window, min_count
        self.start: int | None = None
        self.recent: dict[Group, SlidingTimes] = {(): SlidingTimes(window)} if not info.group_by else {}
        self.last_event: dict[Group, Event] = {}
        self.firing: dict[Group, int] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        group = self.group_of(event, values)
        self.last_event[group] = event
        times = self.recent.get(group)
        if times is None:
            if len(self.recent) >= MAX_GROUPS:
                return self.overflow(event)
            times = self.recent[group] = SlidingTimes(self.window)
        if self.min_count == 1 and times.times:  # one recent match is all an absence of one needs to know
            times.times[-1] = max(times.times[-1], event.time)
        else:
            times.add(event.time)
        return []

    def tick(self, now: int) -> list[Alert]:
        """Each group's state once a whole window has been watched: absent (firing, from when the window ran
        empty) or present (resolved)."""
        if self.start is None:
            self.start = now
        if now < self.start + self.window:
            return []  # not a whole window seen yet: a replay's first minutes say nothing either way
        alerts = []
        for group, times in self.recent.items():
            while times.times and times.times[0] <= now - self.window:
                times.times.popleft()
            last = self.last_event.get(group)
            if len(times.times) >= self.min_count:
                self.firing.pop(group, None)
                alerts.append(
                    self.alert(
                        "resolved",
                        now,
                        group,
                        f"matching events are back ({len(times.times)} in the last {format_duration(self.window)})",
                        event=last,
                        count=len(times.times),
                        window=self.window,
                        last_seen=now,
                    )
                )
                continue
            began = last.time if last is not None else self.start
            due = max(began + self.window, self.start + self.window)  # when the window ran empty
            first = group not in self.firing
            since = self.firing.setdefault(group, due)
            seen = f"last one at {format_time(last.time)}" if last is not None else "none seen since start"
            alerts.append(
                self.alert(
                    "firing",
                    since if first else now,
                    group,
                    f"fewer than {self.min_count} matching events in {format_duration(self.window)} ({seen})",
                    event=last,
                    count=len(times.times),
                    window=self.window,
                    first_seen=since,
                    last_seen=now,
                )
            )
        return alerts

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "min_count": self.min_count,
            "in_window": {group_text(g): len(t.times) for g, t in self.recent.items()},
            "firing_since": {group_text(g): format_time(t) for g, t in self.firing.items()},
        }
