"""Alerts to Sentry: critical matches become events, info and warning matches breadcrumbs (per rule: `sentry:`).

One scope per followed container, so an event carries the trail of what that container matched before it and
never another container's. Events have a fingerprint per rule and group (one incident, one Sentry issue), tags,
the log event as contexts, its stack trace, and the alert's deterministic id as event_id, so a replay after a
crash does not make a second event.

sentry-sdk builds the events (scopes, breadcrumbs, its size limits and scrubbing); its own transport would send
them in the background and drop them on failure, so a transport that hands the envelope back is plugged in and
the envelope is POSTed here, where the answer decides retry or dead-letter (the outbox's job).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import jinja2
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.scope import Scope, use_isolation_scope
from sentry_sdk.transport import Transport
from sentry_sdk.utils import Dsn

from logpipe.render.renderer import Renderer
from logpipe.sinks.base import DeliveryError, post

_LEVELS = {"critical": "error", "warning": "warning", "info": "info"}


class _HandBack(Transport):
    """Keeps the envelope the client built, for the sink to send synchronously."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


def mask_dsn(dsn: str | None) -> str:
    return "***configured***" if dsn else "not configured"


class SentrySink:
    name = "sentry"

    def __init__(
        self,
        dsn: str,
        renderer: Renderer,
        environment: str | None = None,
        release: str | None = None,
        max_breadcrumbs: int = 50,
        timeout: float = 10.0,
        trail: list[dict[str, Any]] | None = None,
    ) -> None:
        self.renderer, self.timeout = renderer, timeout
        self._transport = _HandBack()
        self.client = sentry_sdk.Client(
            dsn=dsn,
            environment=environment,
            release=release,
            transport=self._transport,
            default_integrations=False,
            max_breadcrumbs=max_breadcrumbs,
        )
        auth = Dsn(dsn).to_auth(client="logpipe/0.1")
        self._url, self._auth = auth.get_api_url(), auth.to_header()
        self._scopes: dict[str, Scope] = {}
        for payload in trail or ():  # breadcrumbs delivered before a restart, rebuilt per container
            if payload.get("sentry") == "breadcrumb":
                self._add_breadcrumb(payload)

    def _scope(self, payload: dict[str, Any]) -> Scope:
        container = payload.get("container") or ""
        scope = self._scopes.get(container)
        if scope is None:
            scope = self._scopes[container] = Scope(client=self.client)
        return scope

    def deliver(self, payload: dict[str, Any]) -> None:
        mode = payload.get("sentry", "event")
        if mode == "off":
            return
        if mode == "breadcrumb":
            self._add_breadcrumb(payload)  # sent with the next event of this container
            return
        scope = self._scope(payload)
        self._transport.envelopes.clear()
        # Scope.get_client() reads the context, not the scope it is called on: make this scope the active one
        with use_isolation_scope(scope):
            scope.capture_event(cast(Any, self._event(payload)))  # a plain dict is what the SDK's Event describes
        if not self._transport.envelopes:
            raise DeliveryError("sentry-sdk dropped the event before sending it", retryable=False)
        for envelope in self._transport.envelopes:
            self._post(envelope)

    def _add_breadcrumb(self, payload: dict[str, Any]) -> None:
        scope = self._scope(payload)
        with use_isolation_scope(scope):
            scope.add_breadcrumb(**_breadcrumb(payload))

    def _event(self, payload: dict[str, Any]) -> dict[str, Any]:
        log_event = payload.get("event") or {}
        origin = log_event.get("origin") or {}
        group_key = ",".join(f"{k}={v}" for k, v in payload["group"].items())
        fingerprint = [self._render(item, payload) for item in payload.get("fingerprint") or ()] or [
            "logpipe",
            payload["rule"],
            group_key or "(all)",
        ]
        tags = {
            "rule": payload["rule"],
            "severity": payload["severity"],
            "status": payload["status"],
            "incident": payload.get("incident", ""),
            "count": payload.get("total", payload.get("count", "")),  # the running count: one issue, updated
            "container": payload.get("container") or origin.get("name", ""),
            "context": log_event.get("logger", ""),
        }
        contexts: dict[str, Any] = {
            "alert": {
                k: payload[k]
                for k in (
                    "rule",
                    "incident",
                    "count",
                    "total",
                    "group",
                    "first_seen",
                    "last_seen",
                    "value",
                    "runbook",
                    "summary_text",
                    "symptoms_text",
                    "reason",
                )
                if k in payload
            }
        }
        if log_event:
            contexts["log_event"] = {
                "message": log_event.get("message"),
                "level": log_event.get("level"),
                "parser": log_event.get("parser"),
                "origin": origin,
                "docker_time": log_event.get("docker_time"),
                **log_event.get("fields", {}),
            }
        event: dict[str, Any] = {
            "event_id": payload["id"],
            "message": f"{payload['title']}: {payload['message']}",
            "level": _LEVELS.get(payload["severity"], "error"),
            "logger": log_event.get("logger") or "logpipe",
            "timestamp": payload["time"],
            "fingerprint": fingerprint,
            "tags": {k: str(v) for k, v in tags.items() if v},
            "contexts": contexts,
            "extra": {"data": payload.get("data", {}), "raw": log_event.get("raw")},
        }
        if payload.get("stack"):
            event["extra"]["stack_trace"] = payload["stack"]
        return event

    def _render(self, template: str, payload: dict[str, Any]) -> str:
        try:
            return self.renderer.env.from_string(template).render(payload)
        except jinja2.TemplateError as error:
            raise DeliveryError(f"fingerprint template: {error}", retryable=False) from None

    def _post(self, envelope: Envelope) -> None:
        headers = {"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": self._auth}
        post(self._url, envelope.serialize(), headers, timeout=self.timeout, receiver="Sentry")


def _breadcrumb(payload: dict[str, Any]) -> dict[str, Any]:
    status = "" if payload.get("status", "firing") == "firing" else f"{payload['status']}: "
    if payload.get("folded_into"):
        status = "symptom: "
    return {
        "category": f"logpipe.{payload['rule']}",
        "message": f"{status}{payload['title']}: {payload['message']}",
        "level": _LEVELS.get(payload["severity"], "info"),
        "type": "default",
        "timestamp": datetime.fromisoformat(payload["time"][:26] + "+00:00").astimezone(UTC),
        "data": {
            "rule": payload["rule"],
            "incident": payload.get("incident"),
            "count": payload.get("count"),
            "total": payload.get("total"),
            **payload.get("group", {}),
        },
    }
