"""Incidents to Prometheus Alertmanager (API v2): each incident is one alert, kept alive while it is open.

Alertmanager takes an alert as firing until its `endsAt`, and forgets a sender that stops talking: so, as
Prometheus does (rules/alerting.go, `sendAlerts`), a firing alert is posted with `endsAt` four resend intervals
ahead (room for two failed sends) and posted again every resend interval (Prometheus' `--rules.alert.resend-delay`,
1m) while its incident is open; the resolution posts it with `endsAt` at the time it resolved, and a resolved
alert is re-sent for 15 minutes (Prometheus' `resolvedRetention`), so an Alertmanager that missed it still hears.

- Identity: an alert is its labels. `alertname` is the rule, then `severity`, `container`, the incident's group
  labels and the channel's static `labels:`. Counts change with every notification, so they go in annotations
  (title, summary with counts, description, runbook, incident id): Alertmanager does not notify again for a
  changed annotation, only for a new alert. A severity level reached later is a new label set: the old one is
  ended in the same post.
- Delivery: each notification goes through the outbox like every channel (retried, each once, redacted); the
  keep-alive re-posts are not notifications and are not queued: the dispatcher calls `refresh` on this sink's
  thread, and a failed re-post is tried again at the next interval.
- Several URLs are an HA pair (or more): every post goes to each, and, as Prometheus' notifier, it counts as
  delivered when one of them took it; the next re-post brings the others up to date.
- A notice about logpipe itself (outbox full, a rule disabled) has no incident to resolve it: it is posted once
  and expires after four resend intervals.
- After a restart the alerts of the incidents still open are taken from what this channel was last sent
  (sinks/wiring.py), and re-posted at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from logpipe.sinks.base import DeliveryError, post
from logpipe.sinks.webhook import shown_url, split_credentials

log = structlog.get_logger("logpipe.alertmanager")

API_PATH = "/api/v2/alerts"
RESEND_INTERVAL = 60.0  # Prometheus' default --rules.alert.resend-delay
VALIDITY_INTERVALS = 4  # endsAt of a firing alert: this many resend intervals ahead
RESOLVED_RETENTION = 15 * 60.0  # seconds a resolved alert is still re-sent
_LABEL_NAME = re.compile(r"[^A-Za-z0-9_]")
_OWN_LABELS = ("alertname", "severity")


@dataclass(slots=True)
class _Tracked:
    """One alert as Alertmanager knows it."""

    incident: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float  # seconds since the epoch (event time of the firing)
    ends_at: float | None = None  # the resolution's time; None while the incident is open
    resolved_here: float | None = None  # when the resolution was delivered (wall clock): re-sent until retention

    def body(self, now: float, validity: float) -> dict[str, Any]:
        ends = self.ends_at if self.ends_at is not None else max(now, self.starts_at) + validity
        return {
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": _rfc3339(self.starts_at),
            "endsAt": _rfc3339(max(ends, self.starts_at)),  # Alertmanager refuses an end before the start
        }


class AlertmanagerSink:
    def __init__(
        self,
        name: str,
        urls: Sequence[str],
        *,
        resend_interval: float = RESEND_INTERVAL,
        labels: Mapping[str, str] | None = None,
        resume: Iterable[dict[str, Any]] = (),
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`resume`: payloads this channel was sent before a restart, oldest first, of incidents still open."""
        self.name, self.resend_interval, self.timeout, self.clock = name, resend_interval, timeout, clock
        self.static_labels = {label_name(key): value for key, value in (labels or {}).items()}
        self._targets = []
        for url in urls:
            bare, authorization = split_credentials(url)
            self._targets.append((api_url(bare), authorization, shown_url(url)))
        self._alerts: dict[tuple[tuple[str, str], ...], _Tracked] = {}
        for payload in resume:
            self._track(payload, self.clock())
        for key in [key for key, tracked in self._alerts.items() if tracked.ends_at is not None]:
            del self._alerts[key]  # resolutions were delivered before the restart
        self._last_refresh = float("-inf")  # resumed alerts are re-posted at the first refresh

    def __repr__(self) -> str:
        return f"AlertmanagerSink({self.name!r}, {[shown for _, _, shown in self._targets]!r})"

    @property
    def validity(self) -> float:
        return VALIDITY_INTERVALS * self.resend_interval

    # --- the outbox's side ----------------------------------------------------------------------------------
    def deliver(self, payload: dict[str, Any]) -> None:
        now = self.clock()
        if payload["incident"] == payload["id"]:
            # a notice about logpipe itself (outbox full, a rule disabled): no incident will resolve it, so it is
            # posted once and left to expire
            notice = _Tracked(payload["id"], alert_labels(payload, self.static_labels), alert_annotations(payload),
                              _seconds(payload["time"]))  # fmt: skip
            self._post([notice.body(now, self.validity)])
            return
        changed = self._track(payload, now)
        self._post([tracked.body(now, self.validity) for tracked in changed])

    def refresh(self, now: float) -> None:
        """Re-post every alert Alertmanager must keep hearing about, once per resend interval (called by the
        dispatcher on this sink's thread, between deliveries)."""
        if now - self._last_refresh < self.resend_interval:
            return
        self._last_refresh = now
        for key in [
            key
            for key, tracked in self._alerts.items()
            if tracked.resolved_here is not None and now - tracked.resolved_here > RESOLVED_RETENTION
        ]:
            del self._alerts[key]
        if not self._alerts:
            return
        try:
            self._post([tracked.body(now, self.validity) for tracked in self._alerts.values()])
        except DeliveryError as error:
            log.warning(
                "re-posting open alerts failed; trying again next interval", channel=self.name, error=str(error)
            )

    def open_alerts(self) -> list[dict[str, Any]]:
        """The alerts as the next re-post would send them (for tests and `logpipe notify`)."""
        now = self.clock()
        return [tracked.body(now, self.validity) for tracked in self._alerts.values()]

    # --- the alerts -----------------------------------------------------------------------------------------
    def _track(self, payload: dict[str, Any], now: float) -> list[_Tracked]:
        """Take one notification into the alerts kept; the alerts to post for it (the incident's, and its
        previous label set ended when a new severity level changed its labels)."""
        labels = alert_labels(payload, self.static_labels)
        key = tuple(sorted(labels.items()))
        at = _seconds(payload["time"])
        changed = []
        for old_key, old in list(self._alerts.items()):
            if old.incident == payload["incident"] and old_key != key and old.ends_at is None:
                old.ends_at, old.resolved_here = at, now
                changed.append(old)
        tracked = self._alerts.get(key)
        if tracked is None or tracked.ends_at is not None:  # new, or the same labels again after a resolution
            starts = at if payload["status"] == "firing" else _seconds(payload["first_seen"])
            tracked = self._alerts[key] = _Tracked(payload["incident"], labels, {}, starts)
        tracked.incident = payload["incident"]  # a fleet may rename the incident; the alert stays the same
        tracked.annotations = alert_annotations(payload)
        if payload["status"] == "resolved":
            tracked.ends_at, tracked.resolved_here = max(at, tracked.starts_at), now
        changed.append(tracked)
        return changed

    def _post(self, alerts: list[dict[str, Any]]) -> None:
        """To every Alertmanager; delivered when one took it (the others catch up at the next re-post)."""
        body = orjson.dumps(alerts)
        failures: list[DeliveryError] = []
        for url, authorization, shown in self._targets:
            headers = {} if authorization is None else {"Authorization": authorization}
            try:
                post(
                    url, body, {"Content-Type": "application/json", **headers}, timeout=self.timeout, receiver=shown,
                    limit=65536, named=True,
                )  # fmt: skip
            except DeliveryError as error:
                failures.append(error)
        if len(failures) < len(self._targets):
            for failure in failures:
                log.warning(
                    "one Alertmanager of the set did not take the alerts", channel=self.name, error=str(failure)
                )
            return
        if len(failures) == 1:
            raise failures[0]
        raise DeliveryError(
            "; ".join(str(failure) for failure in failures),
            retryable=any(failure.retryable for failure in failures),
            retry_after=max((f.retry_after for f in failures if f.retry_after is not None), default=None),
            receiver_down=all(failure.receiver_down for failure in failures),
        )


def api_url(url: str) -> str:
    """An Alertmanager's base URL (`http://alertmanager:9093`) as its API v2 alerts endpoint."""
    url = url.rstrip("/")
    return url if url.endswith(API_PATH) else url + API_PATH


def label_name(name: str) -> str:
    """A valid Prometheus label name: other characters become `_` (`ctx.user` -> `ctx_user`), a leading digit gets
    one in front, and `__` (reserved for Prometheus' own) is cut to one."""
    cleaned = _LABEL_NAME.sub("_", name) or "_"
    if cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return "_" + cleaned.lstrip("_") if cleaned.startswith("__") else cleaned


def alert_labels(payload: Mapping[str, Any], static: Mapping[str, str] | None = None) -> dict[str, str]:
    """What identifies the incident's alert: the static labels, the container, the group, alertname, severity."""
    labels = dict(static or {})
    if payload.get("container"):
        labels["container"] = str(payload["container"])
    for key, value in (payload.get("group") or {}).items():
        name = label_name(str(key))
        labels["group_" + name if name in _OWN_LABELS else name] = str(value)
    labels["alertname"] = str(payload["rule"])
    labels["severity"] = str(payload["severity"])
    return {name: value for name, value in labels.items() if value != ""}


def alert_annotations(payload: Mapping[str, Any]) -> dict[str, str]:
    """What Alertmanager's templates show: may change with each notification without making a new alert."""
    summary = f"{payload['title']}: {payload['total']} matches"
    if payload["status"] != "firing" or payload["count"] != payload["total"]:
        summary += f" ({payload['count']} since the previous notification)"
    for extra, prefix in ((payload.get("summary_text"), ""), (payload.get("symptoms_text"), "folded in: ")):
        if extra:
            summary += f"; {prefix}{extra}"
    annotations = {
        "title": str(payload["title"]),
        "summary": summary,
        "description": str(payload.get("message") or ""),
        "runbook": str(payload.get("runbook") or ""),
        "incident": str(payload["incident"]),
        "notification": str(payload["status"]) + (f" ({payload['reason']})" if payload.get("reason") else ""),
    }
    return {name: value for name, value in annotations.items() if value}


def _seconds(stamp: str) -> float:
    """A payload time (RFC 3339 UTC with nanoseconds, `format_time`) as seconds since the epoch."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    base = datetime.fromisoformat(whole + "+00:00").timestamp()
    return base + (float("0." + fraction) if fraction else 0.0)


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
