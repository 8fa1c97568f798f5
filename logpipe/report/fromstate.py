"""The report of a running (or stopped) follower, rebuilt from what it kept in its state directory: the per-minute
trends of its log-derived metrics (trends.sqlite, report/trends.py) and the incidents of its state store. The
same `Report` a saved log gives, so the HTML page, the terminal summary and the digest's attachment are one code.

What differs from a saved log's report, and the page says so (`Report.notes`): p95 is the upper bound of the
histogram bucket holding it; the timeline lists the incidents opened and resolved (a saved log's lists every
notification); the error messages and the users affected are those the incidents recorded (their messages, their
group and `summary:` values), since the follower keeps counts, not events.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logpipe.engine.metrics.export import parse_sample
from logpipe.report.collect import (
    CREDIT_METRIC,
    DB_METRIC,
    EXCEPTION_METRIC,
    PAYMENT_METRIC,
    REDIS_METRIC,
    USER_ID,
    Failures,
    Minute,
    Report,
    TimelineEntry,
    shape_message,
)
from logpipe.report.digest import DURATION_METRIC, PROBE_METRIC, REQUESTS_METRIC, bucket_quantile
from logpipe.report.trends import EVENTS, HEARTBEAT, TrendRecorder, TrendRows, load_rows

if TYPE_CHECKING:
    from logpipe.state.store import StateStore

NOTES = (
    "Rebuilt from the follower's per-minute metric counts: p95 latency is the upper bound of the histogram bucket "
    "holding it, not an exact figure.",
    "The timeline lists the incidents opened and resolved; error messages and users affected are those the "
    "incidents recorded (the follower keeps counts, not events).",
)


class Tally:
    """The figures of some minutes' samples: requests, 5xx, duration buckets, failures by label, probe checks."""

    def __init__(self) -> None:
        self.requests = 0
        self.server_errors = 0
        self.events = 0
        self.buckets: dict[float, float] = defaultdict(float)
        self.by_label: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, samples: Mapping[str, float]) -> None:
        for key, value in samples.items():
            if key == EVENTS:
                self.events += int(value)
                continue
            if key == HEARTBEAT:  # a follower ran in the minute: the minute has a row, nothing to count
                continue
            name, labels = _parsed(key)
            if name == REQUESTS_METRIC:
                self.requests += int(value)
                self.server_errors += int(value) if labels.get("status_class") == "5xx" else 0
            elif name == f"{DURATION_METRIC}_bucket":
                self.buckets[float(labels["le"])] += value  # cumulative per route: summed per bound, still cumulative
            elif name in (PAYMENT_METRIC, CREDIT_METRIC, EXCEPTION_METRIC):
                self.by_label[name][next(iter(labels.values()), "all")] += int(value)
            elif name in (DB_METRIC, REDIS_METRIC):
                self.by_label[name][""] += int(value)
            elif name == PROBE_METRIC:
                self.by_label[f"{PROBE_METRIC}:{labels.get('outcome', 'down')}"][labels.get("probe", "")] += int(value)

    def p95_ms(self) -> float | None:
        """The bucket bound holding the 95th percentile, in ms; None without requests or past the last bound."""
        bound = bucket_quantile(self.buckets, 0.95)
        return None if bound is None or math.isinf(bound) else bound * 1000


@functools.lru_cache(maxsize=4096)
def _parsed(key: str) -> tuple[str, dict[str, str]]:
    """A sample's name and labels, parsed once per series rather than once per minute (callers do not mutate)."""
    return parse_sample(key)


def report_from_state(
    rows: TrendRows,
    incidents: Iterable[Mapping[str, Any]],
    since: int,
    until: int,
    source: str,
    titles: Callable[[str], str],
) -> Report:
    """The report of [since, until] (ns) from the kept trend rows and the state store's incident records."""
    report = Report(source, from_state=True, notes=list(NOTES))
    total = Tally()
    for minute in sorted(rows.counts):
        samples = rows.counts[minute]
        one = Tally()
        one.add(samples)
        total.add(samples)
        report.minutes.append(Minute(minute, one.requests, one.server_errors, one.p95_ms()))
    if report.minutes:
        report.first, report.last = report.minutes[0].start, report.minutes[-1].start
    report.events, report.requests, report.server_errors = total.events, total.requests, total.server_errors
    report.p95_ms = total.p95_ms()
    report.exceptions = Counter(dict(total.by_label[EXCEPTION_METRIC].most_common()))
    up, down = total.by_label[f"{PROBE_METRIC}:up"], total.by_label[f"{PROBE_METRIC}:down"]
    report.probes = {name: (up[name], up[name] + down[name]) for name in sorted(set(up) | set(down))}
    report.memory = {container: list(points) for container, points in sorted(rows.memory.items())}
    report.connection_errors = {
        name: total.by_label[metric][""]
        for name, metric in (("postgres", DB_METRIC), ("redis", REDIS_METRIC))
        if total.by_label[metric][""]
    }
    kept = [
        record
        for record in incidents
        if not record.get("folded_into")  # a symptom folded into its cause is the cause's news
        and int(record["opened"]) <= until
        and (record["closed"] is None or int(record["closed"]) >= since)
    ]
    report.incidents = len(kept)
    report.timeline = _timeline(kept, since, until, titles)
    for record in kept:
        report.error_messages[shape_message(str(record.get("message") or record["rule"]))] += int(record["total"])
    report.payments = Failures(dict(total.by_label[PAYMENT_METRIC].most_common()), _users(kept, "payment"))
    report.credits = Failures(dict(total.by_label[CREDIT_METRIC].most_common()), _users(kept, "credit"))
    return report


def load_report(state_dir: Path, since: int, until: int, source: str, titles: Callable[[str], str]) -> Report:
    """The report of a follower's state directory (read beside a running follower, without its lock); a StateError
    when there is no state store there."""
    from logpipe.errors import StateError
    from logpipe.state.directory import STATE_FILE
    from logpipe.state.store import StateStore

    store = StateStore.find_beside(state_dir)
    if store is None:
        where = state_dir / STATE_FILE
        raise StateError(f"no state store at {where}: has `logpipe follow` run with this state directory?")
    try:
        records = store.progress.incidents_since(since)
    finally:
        store.close()
    return report_from_state(load_rows(state_dir, since, until), records, since, until, source, titles)


def _timeline(
    records: Iterable[Mapping[str, Any]], since: int, until: int, titles: Callable[[str], str]
) -> list[TimelineEntry]:
    entries = []
    for record in records:
        rule, severity = str(record["rule"]), str(record["severity"])
        detail, incident = str(record.get("message") or ""), str(record["id"])
        for at, status in ((record["opened"], "firing"), (record["closed"], "resolved")):
            if at is not None and since <= int(at) <= until:
                entries.append(TimelineEntry(int(at), status, severity, rule, titles(rule), detail, incident))
    return sorted(entries, key=lambda entry: (entry.time, entry.status != "firing"))


def _users(records: Iterable[Mapping[str, Any]], prefix: str) -> dict[str, int]:
    """The users the incidents of `prefix`* rules name: their `summary:` user fields (with counts), else the user
    ids in their group values and message."""
    users: Counter[str] = Counter()
    for record in records:
        if not str(record["rule"]).startswith(prefix):
            continue
        summarised = False
        for name, values in (record.get("summary") or {}).items():
            if "user" in name.lower():
                summarised = True
                users.update({str(value): int(count) for value, count in values.items()})
        if not summarised:
            text = " ".join(str(value) for _, value in record.get("group") or []) + " " + str(record.get("message"))
            users.update(set(USER_ID.findall(text)))
    return dict(users.most_common())


def follower_report(
    recorder: TrendRecorder, store: StateStore, source: str, titles: Callable[[str], str]
) -> Callable[[int, int], Report]:
    """The report of a period as the running follower's digest makes it: its trends flushed up to the end first."""

    def make(since: int, until: int) -> Report:
        recorder.flush(until)
        rows = recorder.store.rows(since, until)
        return report_from_state(rows, store.progress.incidents_since(since), since, until, source, titles)

    return make
