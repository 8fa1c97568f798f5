"""What the report shows, gathered in one pass over a saved log: per-minute request rate, error rate and p95
latency; the notifications the replay's incidents made (the incident timeline, as `logpipe replay` prints it);
top exceptions and error messages; payment and credit failures with the users affected; probe uptime and
container memory where the log has those events.

The failures and exceptions are classified by the rule set's own metric definitions (the pack's
clipforge_payment_webhook_failures_total, ...), so the report counts what Prometheus would."""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from logpipe.engine import Engine, RuleSet
from logpipe.engine.conditions import Values
from logpipe.engine.metrics.model import Metric
from logpipe.event import Event
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.pipeline import read_ahead, run_incidents
from logpipe.report.bounded import tally

MINUTE = 60_000_000_000
PAYMENT_METRIC = "clipforge_payment_webhook_failures_total"
CREDIT_METRIC = "clipforge_credit_deduction_failures_total"
EXCEPTION_METRIC = "clipforge_unhandled_exceptions_total"
DB_METRIC = "clipforge_db_connection_errors_total"
REDIS_METRIC = "clipforge_redis_connection_errors_total"
USER_ID = re.compile(r"\busr_[A-Za-z0-9]+")
_VARIABLE = re.compile(r"\b(?:usr|clp|order|pay|cus|evt|in)_[A-Za-z0-9]+|\b\d+(?:\.\d+)?\b")


@dataclass(frozen=True, slots=True)
class Minute:
    start: int  # ns since the epoch
    requests: int
    server_errors: int  # 5xx
    p95_ms: float | None

    @property
    def rate(self) -> float:
        """Requests per second over the minute."""
        return self.requests / 60

    @property
    def error_rate(self) -> float:
        return self.server_errors / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the incident timeline: a notification people were sent (`timeline_from_notifications`)."""

    time: int
    status: str  # the notification's kind: firing | update | resolved | flapping | reminder
    severity: str
    key: str  # the rule
    title: str
    detail: str
    incident: str = ""


@dataclass(frozen=True, slots=True)
class Failures:
    """Failures of one kind (payment webhooks, credit deductions) by label value, and the users they hit."""

    by_label: dict[str, int]
    users: dict[str, int]  # user id -> failures

    @property
    def total(self) -> int:
        return sum(self.by_label.values())


@dataclass
class Report:
    source: str
    events: int = 0
    first: int | None = None
    last: int | None = None
    minutes: list[Minute] = field(default_factory=list)
    requests: int = 0
    server_errors: int = 0
    p95_ms: float | None = None
    notifications: list[Notification] = field(default_factory=list)  # as replay sends them (no folded symptoms)
    incidents: int = 0
    timeline: list[TimelineEntry] = field(default_factory=list)
    exceptions: Counter[str] = field(default_factory=Counter)
    error_messages: Counter[str] = field(default_factory=Counter)
    payments: Failures = field(default_factory=lambda: Failures({}, {}))
    credits: Failures = field(default_factory=lambda: Failures({}, {}))
    probes: dict[str, tuple[int, int]] = field(default_factory=dict)  # probe -> (up, checks)
    memory: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # container -> (time, MiB)
    # postgres / redis: a follower's report only (a saved log's would classify each event twice more: 15 % slower)
    connection_errors: dict[str, int] = field(default_factory=dict)
    from_state: bool = False  # rebuilt from a follower's kept trends and incidents (report/fromstate.py)
    notes: list[str] = field(default_factory=list)  # how the figures were made, where a reader should know
    # counts past a tally's TRACKED keys (report/bounded.py), by what was counted: "users", "error messages", ...
    untracked: Counter[str] = field(default_factory=Counter)


def timeline_from_notifications(notifications: Sequence[Notification]) -> list[TimelineEntry]:
    return [
        TimelineEntry(item.time, item.kind, item.severity, item.rule, item.title, item.message, item.incident)
        for item in sorted(notifications, key=lambda item: item.time)
    ]


def build_report(events: Iterable[Event], ruleset: RuleSet, source: str) -> Report:
    """Run the events through a fresh engine and incident book (the notifications `logpipe replay` prints) and
    gather the report's figures from the same events on the way."""
    report = Report(source)
    engine = Engine(ruleset)
    every = run_incidents(read_ahead(_tap(events, ruleset, report), engine), engine, IncidentBook(ruleset))
    report.notifications = [item for item in every if item.folded_into is None and not item.silenced]
    report.incidents = len({item.incident for item in report.notifications})
    report.timeline = timeline_from_notifications(report.notifications)
    for item in report.notifications:  # a paid checkout with no credit grant (payment-without-credits) names a user
        if item.rule.startswith("payment") and item.kind == "firing":
            text = " ".join(str(value) for _, value in item.group) + " " + item.message
            for user in sorted(set(USER_ID.findall(text))):
                tally(report.payments.users, user, report.untracked, "users")
    return report


def _tap(events: Iterable[Event], ruleset: RuleSet, report: Report) -> Iterator[Event]:
    """Pass the events on to the engine, gathering the report's figures from each."""
    by_name = {metric.name: metric for metric in ruleset.metrics}
    # minute -> durations (ms): arrays of doubles, a quarter of a list of floats' memory (every line has one)
    per_minute: dict[int, array[float]] = defaultdict(lambda: array("d"))
    requests: Counter[int] = Counter()
    errors: Counter[int] = Counter()
    durations: array[float] = array("d")
    payments: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    credits: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    probes: dict[str, list[int]] = {}
    for event in events:
        yield event
        report.events += 1
        report.first = event.time if report.first is None else min(report.first, event.time)
        report.last = event.time if report.last is None else max(report.last, event.time)
        values, _, _ = ruleset.select_all(event)
        minute = event.time // MINUTE * MINUTE
        status = _number(values.get("http.status"))
        if status is not None:
            requests[minute] += 1
            errors[minute] += status >= 500
            duration = _number(values.get("http.duration_ms"))
            if duration is not None:
                per_minute[minute].append(duration)
                durations.append(duration)
        if event.level in ("error", "critical"):
            tally(report.error_messages, shape_message(event.message), report.untracked, "error messages")
        _classify(by_name.get(EXCEPTION_METRIC), event, values, report.exceptions, None, report.untracked)
        _classify(by_name.get(PAYMENT_METRIC), event, values, *payments, report.untracked)
        _classify(by_name.get(CREDIT_METRIC), event, values, *credits, report.untracked)
        _probe_and_stats(event, probes, report.memory)
    report.minutes = [
        Minute(start, requests[start], errors[start], percentile(per_minute.get(start, []), 0.95))
        for start in _all_minutes(report.first, report.last)
    ]
    report.requests, report.server_errors = sum(requests.values()), sum(errors.values())
    report.p95_ms = percentile(durations, 0.95)
    report.payments = Failures(dict(payments[0].most_common()), dict(payments[1].most_common()))
    report.credits = Failures(dict(credits[0].most_common()), dict(credits[1].most_common()))
    report.probes = {name: (checks.count(1), len(checks)) for name, checks in probes.items()}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (a value that occurred), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _classify(
    metric: Metric | None,
    event: Event,
    values: Values,
    by_label: Counter[str],
    users: Counter[str] | None,
    untracked: Counter[str],
) -> None:
    """Count the event under the metric's first label if one of the metric's branches holds."""
    if metric is None:
        return
    scratch = dict(values)
    if not any(branch.test(event, scratch) for branch in metric.branches):
        return
    label = metric.labels[0].value(metric.labels[0].raw(event, scratch)) if metric.labels else "all"
    tally(by_label, label, untracked, "labels")
    if users is not None:
        for user in sorted(set(USER_ID.findall(values.get("text", event.message)))):
            tally(users, user, untracked, "users")


def _probe_and_stats(event: Event, probes: dict[str, list[int]], memory: dict[str, list[tuple[int, float]]]) -> None:
    """Health probes (logger `probe`: probe.name, probe.ok) and `docker stats` readings (logger `stats`:
    stats.memory.used, cache excluded), as sources/probes/http.py and stats.py emit them; absent from most logs."""
    if event.logger == "probe":
        name = str(event.get("probe.name") or event.origin.name)
        probes.setdefault(name, []).append(1 if event.get("probe.ok") in (True, "true", 1) else 0)
    elif event.logger == "stats":
        used = _number(event.get("stats.memory.used"))
        if used is not None:
            memory.setdefault(event.origin.name, []).append((event.time, used / 2**20))


def shape_message(message: str) -> str:
    """An error message with its ids and numbers blanked, so one kind of error is one row."""
    first = message.split("\n", 1)[0][:160]
    return _VARIABLE.sub("…", first)


def _all_minutes(first: int | None, last: int | None) -> list[int]:
    if first is None or last is None:
        return []
    return list(range(first // MINUTE * MINUTE, last // MINUTE * MINUTE + 1, MINUTE))


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
