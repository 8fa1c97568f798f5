"""logpipe's own counters and health: Prometheus `/metrics` and a `/health` (ok, or degraded with the reasons).

Counts on the per-line path are kept in plain dicts and pushed here every half second with the checkpoints, so
following a busy container pays no metric-library call per line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.lines = Counter("logpipe_lines_read", "Log lines read", ["container", "stream"], registry=r)
        self.events = Counter("logpipe_events", "Events parsed", ["parser"], registry=r)
        self.anomalies = Counter(
            "logpipe_event_flags", "Events flagged (truncated, partial_merged, ...)", ["flag"], registry=r
        )
        self.alerts = Counter(
            "logpipe_notifications",
            "Notifications made, by rule and kind (firing, update, resolved...)",
            ["rule", "status"],
            registry=r,
        )
        self.deliveries = Counter("logpipe_deliveries", "Delivery attempts by outcome", ["sink", "outcome"], registry=r)
        self.skipped = Counter(
            "logpipe_inputs_skipped",
            "Inputs not passed on as log lines (a torn json-file record, the daemon's re-send at a rotation)",
            ["container", "reason"],
            registry=r,
        )
        self.reconnects = Counter(
            "logpipe_docker_reconnects",
            "Log streams reopened while the container runs, by reason (dropped, idle, failed)",
            ["container", "reason"],
            registry=r,
        )
        self.read_lag = Gauge(
            "logpipe_read_lag_seconds", "Now minus the Docker time of the last line read", ["container"], registry=r
        )
        self.group_overflow = Gauge(
            "logpipe_rule_groups_overflow_total",
            "Matches for new groups a rule refused past its limit of groups (counted, not tracked)",
            ["rule"],
            registry=r,
        )
        self.checkpoint_age = Gauge("logpipe_checkpoint_age_seconds", "Since the checkpoint was last saved", registry=r)
        self.queue_depth = Gauge(
            "logpipe_queue_depth", "Batches waiting between the readers and the engine", registry=r
        )
        self.incidents: Callable[[], list[dict[str, Any]]] = list  # /incidents: open and recent incidents
        self._problems: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def degraded(self, component: str, reason: str | None) -> None:
        """Set (or clear, with None) a reason the pipeline is not fully working."""
        with self._lock:
            if reason is None:
                self._problems.pop(component, None)
            else:
                self._problems[component] = reason

    def problems(self) -> dict[str, str]:
        with self._lock:
            return dict(self._problems)

    def health(self) -> dict[str, object]:
        problems = self.problems()
        return {"status": "degraded" if problems else "ok", "problems": problems}

    def add(self, counter: Counter, counts: Mapping[Any, int]) -> None:
        for labels, count in counts.items():
            if count:
                counter.labels(*labels).inc(count)

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics, /health and /incidents on a thread; returns the port (0 picks a free one)."""
        telemetry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, kind, status = generate_latest(telemetry.registry), CONTENT_TYPE_LATEST, 200
                elif self.path == "/incidents":
                    body, kind, status = orjson.dumps(telemetry.incidents()), "application/json", 200
                elif self.path == "/health":
                    health = telemetry.health()
                    body, kind = orjson.dumps(health), "application/json"
                    status = 200 if health["status"] == "ok" else 503
                else:
                    body, kind, status = b"not found\n", "text/plain", 404
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, name="telemetry", daemon=True).start()
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# logpipe's own health read at scrape time, beside the counters: what the outbox still has to deliver per sink, and
# the rules disabled at run time (design.md's per-rule catch boundary); read from the store and the engine when
# Prometheus asks, so the line path pays nothing for them
class HealthCollector(Collector):
    """`pending()`: (sink, state) -> deliveries (StateStore.counts); `sinks`: every sink, shown at 0 when idle;
    `disabled()`: rule id -> the error that disabled it (Engine.disabled)."""

    def __init__(
        self,
        pending: Callable[[], Mapping[tuple[str, str], int]],
        sinks: list[str],
        disabled: Callable[[], Mapping[str, str]],
    ) -> None:
        self.pending, self.sinks, self.disabled = pending, sinks, disabled

    def collect(self) -> Iterator[Metric]:
        counts = self.pending() if self.sinks else {}
        outbox = GaugeMetricFamily(
            "logpipe_outbox_pending", "Notifications waiting in the outbox to be delivered, by sink", labels=["sink"]
        )
        for sink in self.sinks:
            outbox.add_metric([sink], float(counts.get((sink, "pending"), 0)))
        yield outbox
        disabled = GaugeMetricFamily(
            "logpipe_rules_disabled", "Rules disabled at run time because they raised (logpipe's log says why)"
        )
        disabled.add_metric([], float(len(self.disabled())))
        yield disabled
