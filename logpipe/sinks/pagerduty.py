"""Incidents to PagerDuty through its Events API v2: PagerDuty's alert follows logpipe's incident.

- `trigger` when the incident fires (and when it reaches a higher severity: the same alert, updated), `resolve`
  when it resolves; `acknowledge` never (that is a person's act, in PagerDuty). Updates, reminders and flapping
  notices are not sent: a trigger after someone resolved the alert in PagerDuty would open a new one.
- `dedup_key` is the incident id: deterministic and kept in the state store, so a restarted logpipe resolves the
  alert its previous process triggered, and a re-sent trigger (a crash between sending and marking) lands on the
  same alert.
- The answer decides: 202 with `"status": "success"` is delivered; 400 (an invalid event) is dead-lettered; 429
  is retried no sooner than 30 s later (PagerDuty's rate-limit page: retry, 30 s apart) or its Retry-After; 5xx
  and an unreachable endpoint are retried with the outbox's backoff.
- The routing key is a secret: it is in the body only, never in an error, a log line or a repr.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

import orjson

from logpipe.config.settings import EVENTS_URL
from logpipe.sinks.base import DeliveryError, HttpStatusError, post
from logpipe.sinks.webhook import shown_url

RATE_LIMIT_WAIT = 30.0  # seconds between retries after a 429, as PagerDuty's rate-limit page suggests
SEVERITIES = {"critical": "critical", "warning": "warning", "info": "info"}  # logpipe's -> PagerDuty's
SUMMARY_LIMIT = 1024  # characters PagerDuty keeps of payload.summary
_ACTIONS = {"firing": "trigger", "resolved": "resolve"}


class PagerDutySink:
    def __init__(
        self,
        name: str,
        routing_key: str,
        url: str = EVENTS_URL,
        *,
        source: str | None = None,
        rate_limit_wait: float = RATE_LIMIT_WAIT,
        timeout: float = 10.0,
    ) -> None:
        """`source`: the affected system PagerDuty shows when an alert has no container (default: this host)."""
        self.name, self.url, self.timeout, self.rate_limit_wait = name, url, timeout, rate_limit_wait
        self._routing_key = routing_key
        self.source = source or socket.gethostname()
        self.shown_url = shown_url(url)

    def __repr__(self) -> str:
        return f"PagerDutySink({self.name!r}, {self.shown_url!r})"

    def deliver(self, payload: dict[str, Any]) -> None:
        body = pagerduty_event(payload, self._routing_key, self.source)
        if body is None:
            return  # an update or a reminder: PagerDuty's alert already says it is open
        try:
            json = {"Content-Type": "application/json"}
            shown = f"PagerDuty ({self.name})"
            answer = post(
                self.url, orjson.dumps(body), json, timeout=self.timeout, receiver=shown, limit=65536, named=True
            )
        except HttpStatusError as error:
            if error.status == 429:
                error.retry_after = max(error.retry_after or 0.0, self.rate_limit_wait)
            raise
        try:
            result = orjson.loads(answer)
        except orjson.JSONDecodeError:
            result = None
        if not isinstance(result, dict) or result.get("status") != "success":
            raise DeliveryError(f"PagerDuty ({self.name}) answered {answer[:200]!r}", retryable=False)
        if result.get("dedup_key") not in (None, body["dedup_key"]):
            raise DeliveryError(
                f"PagerDuty ({self.name}) filed the event under dedup_key {result['dedup_key']!r}, "
                f"not the incident's {body['dedup_key']!r}",
                retryable=False,
            )


def pagerduty_event(payload: Mapping[str, Any], routing_key: str, source: str) -> dict[str, Any] | None:
    """The Events API v2 event for one notification, or None when PagerDuty is not told (updates, reminders)."""
    action = _ACTIONS.get(str(payload["status"]))
    if action is None:
        return None
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": payload["incident"]}
    if action == "resolve":
        return event
    summary = f"{payload['title']}: {payload.get('message') or ''}".strip().rstrip(":")
    details: dict[str, Any] = {
        "rule": payload["rule"],
        "incident": payload["incident"],
        "matches": payload["total"],
        "matches since the previous notification": payload["count"],
        "first seen": payload.get("first_seen"),
        "last seen": payload.get("last_seen"),
    }
    for key, label in (
        ("summary_text", "summary"),
        ("symptoms_text", "folded in"),
        ("runbook", "runbook"),
        ("description", "description"),
    ):
        if payload.get(key):
            details[label] = payload[key]
    if payload.get("group"):
        details["group"] = dict(payload["group"])
    event["payload"] = {
        "summary": summary[:SUMMARY_LIMIT],
        "source": str(payload.get("container") or source),
        "severity": SEVERITIES.get(str(payload["severity"]), "error"),
        "timestamp": payload["time"],
        "component": str(payload.get("container") or ""),
        "class": str(payload["rule"]),
        "custom_details": details,
    }
    if not event["payload"]["component"]:
        del event["payload"]["component"]
    event["client"] = "logpipe"
    return event
