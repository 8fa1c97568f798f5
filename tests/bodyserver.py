"""An HTTP server on loopback whose answer a test writes: each GET gets the next body of a list (the last one
again once they run out), with status 200, as JSON."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def body_server(bodies: list[bytes]) -> Iterator[str]:
    """Serve until the block ends; yields http://127.0.0.1:PORT/health."""
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies[min(served[0], len(bodies) - 1)]
            served[0] += 1
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()
