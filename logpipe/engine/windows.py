"""Event-time windows: counts and values kept in time buckets, so a window's total is a sum over a few buckets
and old data leaves by whole buckets. Percentiles use DDSketch (1 % relative accuracy) per bucket, merged when a
window is evaluated, instead of keeping every value."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from ddsketch import DDSketch


@dataclass(slots=True)
class BucketCounts:
    """Counts of two things per bucket: `hits` (e.g. 5xx responses) among `total` (all responses)."""

    bucket: int  # ns per bucket
    buckets: dict[int, list[int]] = field(default_factory=dict)
    # (hits, total) per bucket from the other instances of a fleet (logpipe/fleet/), replaced at each sync
    others: dict[int, tuple[int, int]] = field(default_factory=dict)

    def add(self, time: int, hit: bool) -> None:
        counts = self.buckets.get(time // self.bucket)
        if counts is None:
            counts = self.buckets[time // self.bucket] = [0, 0]
        counts[1] += 1
        if hit:
            counts[0] += 1

    def window(self, end: int, length: int) -> tuple[int, int]:
        """(hits, total) over the buckets that lie in [end - length, end)."""
        first, last = (end - length) // self.bucket, end // self.bucket
        hits = total = 0
        for index, (bucket_hits, bucket_total) in self.buckets.items():
            if first <= index < last:
                hits += bucket_hits
                total += bucket_total
        for index, (other_hits, other_total) in self.others.items():
            if first <= index < last:
                hits += other_hits
                total += other_total
        return hits, total

    def drop_before(self, time: int) -> None:
        oldest = time // self.bucket
        for index in [i for i in self.buckets if i < oldest]:
            del self.buckets[index]
        for index in [i for i in self.others if i < oldest]:
            del self.others[index]


PENDING_LIMIT = 4096  # distinct values held back from a bucket's sketch before they are folded in


@dataclass(slots=True)
class _ValueBucket:
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    sketch: DDSketch | None = None
    # values not yet in the sketch, with how often each came: durations repeat (whole milliseconds), and one
    # weighted add per distinct value at evaluation costs far less than DDSketch.add per line (1.35 -> 0.3 us)
    pending: dict[float, int] = field(default_factory=dict)

    def settled(self) -> DDSketch | None:
        """The sketch with every pending value in it."""
        if self.sketch is not None and self.pending:
            for value, weight in self.pending.items():
                self.sketch.add(value, weight)
            self.pending.clear()
        return self.sketch


@dataclass(slots=True)
class BucketValues:
    """Numeric values per bucket: count, sum, min, max, and a DDSketch when a percentile is asked for."""

    bucket: int
    quantiles: bool
    buckets: dict[int, _ValueBucket] = field(default_factory=dict)
    # (count, sum, min, max) per bucket from the other instances of a fleet (not for percentiles: no sketches)
    others: dict[int, tuple[int, float, float, float]] = field(default_factory=dict)

    def add(self, time: int, value: float) -> None:
        index = time // self.bucket
        slot = self.buckets.get(index)
        if slot is None:
            slot = self.buckets[index] = _ValueBucket(sketch=DDSketch(0.01) if self.quantiles else None)
        slot.count += 1
        if slot.sketch is not None:  # a percentile needs only the sketch
            if math.isfinite(value):  # zeros and negatives count too (DDSketch keeps them in their own stores)
                pending = slot.pending
                pending[value] = pending.get(value, 0) + 1
                if len(pending) > PENDING_LIMIT:
                    slot.settled()
            return
        slot.total += value
        slot.low = min(slot.low, value)
        slot.high = max(slot.high, value)

    def aggregate(self, end: int, length: int, function: str) -> tuple[float | None, int]:
        """(value of `function` over [end - length, end), number of values)."""
        first, last = (end - length) // self.bucket, end // self.bucket
        slots = [slot for index, slot in self.buckets.items() if first <= index < last]
        others = [other for index, other in self.others.items() if first <= index < last]
        count = sum(slot.count for slot in slots) + sum(other[0] for other in others)
        if not count:
            return None, 0
        if function == "count":
            return float(count), count
        if function in ("sum", "avg"):
            total = sum((slot.total for slot in slots), 0.0) + sum((other[1] for other in others), 0.0)
            return (total if function == "sum" else total / count), count
        if function == "max":
            return max([slot.high for slot in slots] + [other[3] for other in others]), count
        if function == "min":
            return min([slot.low for slot in slots] + [other[2] for other in others]), count
        merged = DDSketch(0.01)
        for slot in slots:
            sketch = slot.settled()
            if sketch is not None:
                merged.merge(sketch)
        quantile = merged.get_quantile_value(int(function[1:]) / 100) if merged.count else None
        return quantile, count

    def drop_before(self, time: int) -> None:
        oldest = time // self.bucket
        for index in [i for i in self.buckets if i < oldest]:
            del self.buckets[index]
        for index in [i for i in self.others if i < oldest]:
            del self.others[index]


@dataclass(slots=True)
class SlidingTimes:
    """The times of recent matches within a window (threshold rules), oldest first."""

    length: int
    times: deque[int] = field(default_factory=deque)

    def add(self, time: int) -> int:
        self.times.append(time)
        horizon = max(time, self.times[-1]) - self.length
        while self.times and self.times[0] <= horizon:
            self.times.popleft()
        return len(self.times)
