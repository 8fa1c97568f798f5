"""A local PagerDuty Events API v2 (PagerDuty itself cannot run here): a real HTTP server in a thread that
implements the documented contract of POST /v2/enqueue, so the `pagerduty` channel is tested against its answers.

- 202 `{"status": "success", "message": "Event processed", "dedup_key": ...}` for a valid event (a trigger
  without a dedup_key gets a new one);
- 400 `{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}` for an invalid one:
  routing_key not 32 characters, event_action not trigger/acknowledge/resolve, dedup_key over 255 characters, a
  trigger without payload.summary (at most 1024 characters), payload.source, or payload.severity in
  critical/error/warning/info;
- 429 and 5xx when `fail_next` says so (the rate limit, an outage);
- alerts as PagerDuty keeps them: a trigger opens one per dedup_key (or adds to the open one), resolve closes it,
  a trigger after the resolution opens a new one, an acknowledge or resolve of no open alert is dropped.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.integration.receivers import free_port

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


@dataclass
class PagerDutyAlert:
    dedup_key: str
    status: str  # triggered | acknowledged | resolved
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EventsApi:
    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)  # every POSTed body, answered or not
    answers: list[int] = field(default_factory=list)  # the status of each answer, in order
    alerts: list[PagerDutyAlert] = field(default_factory=list)
    fail_next: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)  # (status, headers) to answer next
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2/enqueue"

    def start(self) -> EventsApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, body = api.handle(self.path, raw)
                encoded = json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, path: str, raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            try:
                event = json.loads(raw)
            except ValueError:
                event = None
            self.received.append(event if isinstance(event, dict) else {"unparsed": raw.decode(errors="replace")})
            status, headers, body = self._answer(path, event)
            self.answers.append(status)
            return status, headers, body

    def _answer(self, path: str, event: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
        if path != "/v2/enqueue":
            return 404, {}, {"status": "not found"}
        if self.fail_next:
            status, headers = self.fail_next.popleft()
            message = "Too many API calls at a time" if status == 429 else "Internal Server Error"
            return status, headers, {"status": "error", "message": message}
        errors = invalid(event)
        if errors:
            return 400, {}, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        key = event.get("dedup_key") or uuid.uuid4().hex
        open_alert = next((a for a in self.alerts if a.dedup_key == key and a.status != "resolved"), None)
        action = event["event_action"]
        if action == "trigger":
            if open_alert is None:
                open_alert = PagerDutyAlert(key, "triggered")
                self.alerts.append(open_alert)
            open_alert.events.append(event)
        elif open_alert is not None:  # acknowledge or resolve of an open alert; otherwise dropped
            open_alert.status = "acknowledged" if action == "acknowledge" else "resolved"
            open_alert.events.append(event)
        return 202, {}, {"status": "success", "message": "Event processed", "dedup_key": key}

    def events(self, action: str | None = None) -> list[dict[str, Any]]:
        """The events accepted (answered 202), in order."""
        with self._lock:
            accepted = [event for event, status in zip(self.received, self.answers, strict=True) if status == 202]
        return [event for event in accepted if action is None or event["event_action"] == action]


def invalid(event: Any) -> list[str]:
    """Why an event is invalid, as the Events API v2 documents its fields; empty when it is valid."""
    if not isinstance(event, dict):
        return ["Request body is not a JSON object."]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' must be the 32 character integration key.")
    if event.get("event_action") not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve).")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters.")
    if event.get("event_action") == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object.")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary or len(summary) > 1024:
                errors.append("'payload.summary' is missing or longer than 1024 characters.")
            if not isinstance(payload.get("source"), str) or not payload["source"]:
                errors.append("'payload.source' is missing.")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info).")
    elif not dedup:
        errors.append("'dedup_key' is required to acknowledge or resolve.")
    return errors
