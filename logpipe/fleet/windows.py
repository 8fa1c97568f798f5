"""The fleet's windows: the windowed rules' buckets this instance sends (those that changed since they were last
sent, as absolute values), and the other instances' buckets taken into each window's `others`, so an evaluation
sees the fleet's totals. Part of the sync's tick (sync.py)."""

from __future__ import annotations

from logpipe.engine.engine import Engine
from logpipe.engine.kinds.aggregate import AggregateRule
from logpipe.engine.kinds.base import MAX_GROUPS
from logpipe.engine.kinds.ratio import RatioRule
from logpipe.engine.windows import BucketCounts, BucketValues
from logpipe.fleet.backend import BucketValues as Values
from logpipe.fleet.backend import Group, WindowShare

Windowed = RatioRule | AggregateRule


class SharedWindows:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pushed: dict[tuple[str, Group], dict[int, Values]] = {}  # what the backend has of this instance's

    def windowed(self) -> list[Windowed]:
        return [
            rule
            for rule in self.engine.active
            if isinstance(rule, RatioRule) or (isinstance(rule, AggregateRule) and rule.function[0] != "p")
        ]

    def shares(self) -> tuple[list[WindowShare], dict[str, int], dict[tuple[str, Group], dict[int, Values]]]:
        shares, oldest, pushed = [], {}, {}
        watermark = self.engine.watermark or 0
        for rule in self.windowed():
            oldest[rule.info.id] = (watermark - rule.window) // rule.every - 1
            ttl_ms = (rule.window + 2 * rule.every) // 1_000_000
            for group, buckets in _local_buckets(rule).items():
                before = self.pushed.get((rule.info.id, group), {})
                changed = {index: values for index, values in buckets.items() if before.get(index) != values}
                if changed:
                    shares.append(WindowShare(rule.info.id, group, changed, ttl_ms))
                    pushed[(rule.info.id, group)] = {**before, **changed}
        return shares, oldest, pushed

    def apply(self, windows: dict[tuple[str, Group], dict[int, Values]], oldest: dict[str, int]) -> None:
        for rule in self.windowed():
            if rule.info.id not in oldest:
                continue
            if isinstance(rule, RatioRule):
                for group, counts in rule.counts.items():
                    counts.others = _ratio(windows.get((rule.info.id, group), {}))
                for (rule_id, group), others in windows.items():
                    if (
                        rule_id == rule.info.id
                        and group not in rule.counts
                        and others
                        and len(rule.counts) < MAX_GROUPS
                    ):
                        fresh = rule.counts[group] = BucketCounts(rule.every)
                        fresh.others = _ratio(others)
            else:
                for group, slots in rule.values.items():
                    slots.others = _aggregate(windows.get((rule.info.id, group), {}))
                for (rule_id, group), others in windows.items():
                    if (
                        rule_id == rule.info.id
                        and group not in rule.values
                        and others
                        and len(rule.values) < MAX_GROUPS
                    ):
                        fresh_values = rule.values[group] = BucketValues(rule.every, False)
                        fresh_values.others = _aggregate(others)
        for rule in self.windowed():  # buckets past the window leave `others` too
            for keeper in (rule.counts if isinstance(rule, RatioRule) else rule.values).values():
                for index in [i for i in keeper.others if i < oldest.get(rule.info.id, 0)]:
                    del keeper.others[index]

    def clear_others(self) -> None:
        for rule in self.windowed():
            for keeper in (rule.counts if isinstance(rule, RatioRule) else rule.values).values():
                keeper.others = {}


def _local_buckets(rule: Windowed) -> dict[Group, dict[int, Values]]:
    if isinstance(rule, RatioRule):
        return {
            group: {index: (float(hits), float(total)) for index, (hits, total) in counts.buckets.items()}
            for group, counts in rule.counts.items()
        }
    return {
        group: {index: (float(s.count), s.total, s.low, s.high) for index, s in slots.buckets.items() if s.count}
        for group, slots in rule.values.items()
    }


# the other instances' buckets of a ratio (hits, total) or an aggregate (count, sum, min, max); a bucket of the
# other shape is no bucket of this rule (it changed kind) and is left out
def _ratio(buckets: dict[int, Values]) -> dict[int, tuple[int, int]]:
    return {b: (int(v[0]), int(v[1])) for b, v in buckets.items() if len(v) == 2}


def _aggregate(buckets: dict[int, Values]) -> dict[int, tuple[int, float, float, float]]:
    return {b: (int(v[0]), v[1], v[2], v[3]) for b, v in buckets.items() if len(v) == 4}
