"""A real HTTP server on loopback serving ClipForge's health JSON (/health) and NestJS Terminus's (/health/db),
whose behaviour a test flips while logpipe probes it: healthy, database down, hung, slow. Over TLS when given a
server context (tests make one with trustme)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


@dataclass
class HealthState:
    database_up: bool = True
    delay: float = 0.0  # seconds before answering (a hung endpoint: longer than the probe's timeout)
    uptime: float = 3600.0
    hits: dict[str, int] = field(default_factory=dict)


def clipforge_body(state: HealthState) -> dict[str, object]:
    database = "ok" if state.database_up else "error"
    return {
        "status": "ok" if state.database_up else "error",
        "timestamp": "2026-11-30T10:00:00.000Z",
        "uptime": state.uptime,
        "database": {"status": database},
        "redis": {"status": "ok"},
        "storage": {"status": "ok"},
    }


def terminus_body(state: HealthState) -> tuple[int, dict[str, object]]:
    if state.database_up:
        up = {"database": {"status": "up"}}
        return 200, {"status": "ok", "info": up, "error": {}, "details": up}
    down = {"database": {"status": "down", "message": "Connection terminated unexpectedly"}}
    return 503, {"status": "error", "info": {}, "error": down, "details": down}


@contextmanager
def health_server(state: HealthState, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve until the block ends; yields the base URL (http://127.0.0.1:PORT, or https://localhost:PORT)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            if state.delay:
                time.sleep(state.delay)
            if self.path == "/health":
                status, body = 200, clipforge_body(state)
            elif self.path == "/health/db":
                status, body = terminus_body(state)
            else:
                status, body = 404, {"message": "Cannot GET " + self.path}
            data = orjson.dumps(body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the probe gave up waiting (its timeout), as a real client does

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:  # the handshake runs in accept(); one that fails (the client refused the certificate) is
        # an OSError there, which socketserver drops: the server goes on
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme_host = "https://localhost" if tls is not None else "http://127.0.0.1"
        yield f"{scheme_host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
