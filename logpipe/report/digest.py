"""The daily digest's content: what went wrong over a period, as a payload the notification channels render with
their `digest.*` templates (logpipe/render/templates/digest.slack.json.j2, digest.email.html.j2, ...).

Two sources give the same figures: a running follower (its log-derived metrics counted since the last digest,
`from_samples`, and the incidents in its state store) and a saved log (`from_report`, a replay: what
`logpipe report --digest` previews). The failures, exceptions and requests are the pack's metrics
(rules/metrics.yml), so the digest counts what Prometheus would; a rule set without them leaves those parts out."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from logpipe.engine import RuleSet
from logpipe.engine.metrics.export import parse_sample
from logpipe.report.collect import (
    CREDIT_METRIC,
    DB_METRIC,
    EXCEPTION_METRIC,
    PAYMENT_METRIC,
    REDIS_METRIC,
    Report,
)

REQUESTS_METRIC = "clipforge_http_requests_total"
DURATION_METRIC = "clipforge_http_request_duration_seconds"
PROBE_METRIC = "clipforge_probe_checks_total"  # {probe, outcome}: up or down
TOP = 5  # rows per table
DIGEST_RULE = "logpipe.digest"  # what the outbox's log and `logpipe outbox` show as its rule


@dataclass(frozen=True, slots=True)
class IncidentLine:
    rule: str
    title: str
    severity: str
    opened: int  # ns
    closed: int | None
    matches: int


@dataclass
class Digest:
    date: str  # the local date it is for
    timezone: str
    since: int  # ns
    until: int
    source: str = ""  # the host, or the saved log
    link: str | None = None
    requests: int | None = None  # None: the rule set has no request metric
    server_errors: int = 0
    p95_seconds: float | None = None  # from histogram buckets: the bucket's upper bound
    p95_exact: bool = False  # True when computed from every duration (a saved log)
    incidents: list[IncidentLine] = field(default_factory=list)  # opened in the period, or still open
    resolved: int = 0
    exceptions: list[tuple[str, int]] = field(default_factory=list)
    payments: list[tuple[str, int]] = field(default_factory=list)
    credits: list[tuple[str, int]] = field(default_factory=list)
    connection_errors: dict[str, int] = field(default_factory=dict)  # postgres / redis
    probes: list[tuple[str, int, int]] = field(default_factory=list)  # name, up, checks
    report_file: str | None = None  # the HTML report attached to the email (report/attachment.py)

    def opened(self) -> list[IncidentLine]:
        return [item for item in self.incidents if item.opened >= self.since]

    def top_rules(self) -> list[tuple[str, str, int, int]]:
        """(rule, title, incidents, matches) of the incidents opened in the period, most matches first."""
        by_rule: dict[str, list[IncidentLine]] = defaultdict(list)
        for item in self.opened():
            by_rule[item.rule].append(item)
        rows = [(rule, lines[0].title, len(lines), sum(i.matches for i in lines)) for rule, lines in by_rule.items()]
        return sorted(rows, key=lambda row: (-row[3], row[0]))[:TOP]

    def to_payload(self) -> dict[str, Any]:
        """What the templates render (and the outbox stores, redacted)."""
        zone = ZoneInfo(self.timezone)
        opened = self.opened()
        still_open = [item for item in self.incidents if item.closed is None]
        share = round(100 * self.server_errors / self.requests, 2) if self.requests else None
        title = (
            f"logpipe daily digest for {self.date}: {len(opened)} incident{'s' * (len(opened) != 1)} opened, "
            f"{self.resolved} resolved"
        )
        return {
            "rule": DIGEST_RULE,
            "template": "digest",
            "kind": "digest",
            "title": title,
            "date": self.date,
            "timezone": self.timezone,
            "since": _local(self.since, zone),
            "until": _local(self.until, zone),
            "source": self.source,
            "link": self.link,
            "report_file": self.report_file,
            "incidents": {
                "opened": len(opened),
                "resolved": self.resolved,
                "open": len(still_open),
                "critical": sum(item.severity == "critical" for item in opened),
                "items": [
                    {
                        "rule": item.rule,
                        "title": item.title,
                        "severity": item.severity,
                        "opened": _local(item.opened, zone),
                        "closed": _local(item.closed, zone) if item.closed else None,
                        "matches": item.matches,
                    }
                    for item in sorted(self.incidents, key=lambda i: i.opened)[:20]
                ],
            },
            "top_rules": [
                {"rule": rule, "title": name, "incidents": count, "matches": matches}
                for rule, name, count, matches in self.top_rules()
            ],
            "requests": {
                "total": self.requests,
                "server_errors": self.server_errors,
                "error_percent": share,
                "p95_seconds": self.p95_seconds,
                "p95_bound": not self.p95_exact,
            },
            "exceptions": [{"type": name, "count": count} for name, count in self.exceptions[:TOP]],
            "payments": [{"provider": name, "count": count} for name, count in self.payments],
            "payment_failures": sum(count for _, count in self.payments),
            "credits": [{"reason": name, "count": count} for name, count in self.credits],
            "credit_failures": sum(count for _, count in self.credits),
            "connection_errors": dict(self.connection_errors),
            "probes": [
                {"name": name, "up": up, "checks": checks, "uptime_percent": round(100 * up / checks, 2)}
                for name, up, checks in self.probes
                if checks
            ],
        }


def rule_title(ruleset: RuleSet, rule: str) -> str:
    """The rule's title, or its id when the rule set has no such rule (any more)."""
    position = ruleset.index.get(rule)
    return ruleset.rules[position].info.title if position is not None else rule


def incident_lines(records: Iterable[Mapping[str, Any]], titles: Callable[[str], str]) -> list[IncidentLine]:
    """The state store's incident records as lines; symptoms folded into a cause are the cause's news, not rows."""
    return [
        IncidentLine(
            str(record["rule"]),
            titles(str(record["rule"])),
            str(record["severity"]),
            int(record["opened"]),
            record["closed"],
            int(record["total"]),
        )
        for record in records
        if not record.get("folded_into")
    ]


def from_samples(digest: Digest, samples: Mapping[str, float], defined: Iterable[str] = ()) -> Digest:
    """Fill the figures from log-derived metric samples counted over the period (`name{label="v"}` -> value);
    `defined`: the names of the rule set's metrics (a defined metric that counted nothing says 0, not absent)."""
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    buckets: dict[float, float] = defaultdict(float)
    seen: set[str] = set(defined)
    for key, value in samples.items():
        name, labels = parse_sample(key)
        seen.add(name)
        if name == REQUESTS_METRIC:
            by_label[name][labels.get("status_class", "")] += int(value)
        elif name == f"{DURATION_METRIC}_bucket":
            buckets[float(labels["le"])] += value  # cumulative per route: summed per bound, still cumulative
        elif name in (PAYMENT_METRIC, CREDIT_METRIC, EXCEPTION_METRIC):
            first = next(iter(labels.values()), "all")
            if value:
                by_label[name][first] += int(value)
        elif name in (DB_METRIC, REDIS_METRIC):
            by_label[name][""] += int(value)
        elif name == PROBE_METRIC:
            by_label[f"{PROBE_METRIC}:{labels.get('outcome', 'down')}"][labels.get("probe", "")] += int(value)
    if REQUESTS_METRIC in seen:
        digest.requests = sum(by_label[REQUESTS_METRIC].values())
        digest.server_errors = by_label[REQUESTS_METRIC]["5xx"]
    digest.p95_seconds = bucket_quantile(buckets, 0.95)
    digest.exceptions = by_label[EXCEPTION_METRIC].most_common()
    digest.payments = by_label[PAYMENT_METRIC].most_common()
    digest.credits = by_label[CREDIT_METRIC].most_common()
    up, down = by_label[f"{PROBE_METRIC}:up"], by_label[f"{PROBE_METRIC}:down"]
    digest.probes = [(name, up[name], up[name] + down[name]) for name in sorted(set(up) | set(down))]
    for name, metric in (("postgres", DB_METRIC), ("redis", REDIS_METRIC)):
        if metric in seen:
            digest.connection_errors[name] = by_label[metric][""]
    return digest


def from_report(digest: Digest, report: Report, titles: Callable[[str], str]) -> Digest:
    """Fill the figures from a replayed saved log (`logpipe report --digest`)."""
    digest.requests, digest.server_errors = report.requests, report.server_errors
    digest.p95_seconds = None if report.p95_ms is None else report.p95_ms / 1000
    digest.p95_exact = True
    digest.exceptions = report.exceptions.most_common()
    digest.payments = list(report.payments.by_label.items())
    digest.credits = list(report.credits.by_label.items())
    digest.probes = [(name, up, checks) for name, (up, checks) in sorted(report.probes.items())]
    opened: dict[str, IncidentLine] = {}
    for item in report.notifications:
        line = opened.get(item.incident)
        if line is None:
            line = IncidentLine(item.rule, titles(item.rule), item.severity, item.time, None, 0)
        closed = item.time if item.kind == "resolved" else line.closed
        opened[item.incident] = IncidentLine(
            line.rule, line.title, line.severity, line.opened, closed, max(line.matches, item.total)
        )
    digest.incidents = list(opened.values())
    digest.resolved = sum(line.closed is not None for line in digest.incidents)
    return digest


def bucket_quantile(buckets: Mapping[float, float], q: float) -> float | None:
    """The upper bound of the first bucket holding the q-quantile (Prometheus' histogram_quantile, without the
    interpolation): "p95 at most 0.5 s"."""
    total = buckets.get(float("inf"), 0.0)
    if total <= 0:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= q * total:
            return bound
    return None


def _local(ns: int, zone: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
