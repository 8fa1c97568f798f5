"""logpipe's own counters and health: Prometheus `/metrics` and a `/health` (ok, or degraded with the reasons).

Counts on the per-line path are kept in plain dicts and pushed here every half second with the checkpoints, so
following a busy container pays no metric-library call per line.

The server on the metrics port serves whoever connects: each connection has a deadline for the whole of it
(CONNECTION_DEADLINE; a client trickling its request is cut off), at most MAX_CONNECTIONS are served at once, and
a client gone before its answer is counted (logpipe_metrics_server_aborted_total{reason}), never a traceback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONNECTION_DEADLINE = 10.0  # seconds for a whole request and its answer
READ_TIMEOUT = 5.0  # seconds for any one read of a request
MAX_CONNECTIONS = 32  # served at once; more are closed at once (counted)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.lines = Counter("logpipe_lines_read", "Log lines read", ["container", "stream"], registry=r)
        self.events = Counter("logpipe_events", "Events parsed", ["parser"], registry=r)
        self.anomalies = Counter(
            "logpipe_event_flags", "Events flagged (truncated, partial_merged, ...)", ["flag"], registry=r
        )
        self.notifications = Counter(
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
        self.server_aborted = Counter(
            "logpipe_metrics_server_aborted",
            "Connections to the metrics port ended early: client_gone (before its answer), too_slow (past the "
            "deadline for a whole request), too_many (over the connections served at once), error",
            ["reason"],
            registry=r,
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
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the scraper left before its answer
                    telemetry.server_aborted.labels("client_gone").inc()
                    self.close_connection = True

            timeout = READ_TIMEOUT  # any one read (StreamRequestHandler sets it on the socket)

            def setup(self) -> None:
                super().setup()
                self._deadline = threading.Timer(CONNECTION_DEADLINE, self._cut_off)
                self._deadline.daemon = True
                self._deadline.start()

            def _cut_off(self) -> None:
                telemetry.server_aborted.labels("too_slow").inc()
                with contextlib.suppress(OSError):  # the reads and writes under way end at once
                    self.connection.shutdown(socket.SHUT_RDWR)

            def finish(self) -> None:
                self._deadline.cancel()
                with contextlib.suppress(OSError):  # a client gone: nothing left to flush to
                    super().finish()

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server((host, port), Handler, self.server_aborted)
        threading.Thread(target=self._server.serve_forever, name="telemetry", daemon=True).start()
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once; a connection's error is counted, not printed."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], aborted: Counter) -> None:
        super().__init__(address, handler)
        self.aborted = aborted
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.aborted.labels("too_many").inc()
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.aborted.labels("error").inc()  # socketserver would print a traceback on stderr


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
