"""Bounded lists in the report: a log may name any number of users, messages or exception types (250k affected
users made a 16.6 MB page, and their counters grew with the log). A tally keeps at most TRACKED distinct keys,
exactly; what comes for a key past them is counted, not kept (`untracked`). A page or a terminal lists the top
few of each with a count of the rest (`+N more`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

TRACKED = 10_000  # distinct keys a tally keeps (users, error message shapes, exception types, labels)
LISTED = 20  # rows a summary list shows
TIMELINE_LISTED = 200  # notifications the incident timeline shows


def tally(counts: Counter[str] | dict[str, int], key: str, untracked: Counter[str], kind: str, n: int = 1) -> None:
    """Count `n` under `key`, or under `untracked[kind]` once `counts` holds TRACKED other keys."""
    if key in counts or len(counts) < TRACKED:
        counts[key] = counts.get(key, 0) + n
    else:
        untracked[kind] += n


def top(counts: Iterable[Mapping[str, int]], listed: int = LISTED) -> tuple[list[tuple[str, int]], int]:
    """The `listed` largest counts of the mappings together (ties by key), and how many other keys there are."""
    merged: Counter[str] = Counter()
    for mapping in counts:
        merged.update(mapping)
    rows = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return rows[:listed], max(0, len(rows) - listed)
