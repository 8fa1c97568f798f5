"""Servers on loopback that misbehave slowly, for the deadline tests: each answers one byte at a time (the status
line, the headers and the body), a byte every `pause` seconds, so no single read ever waits long."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

BODY = b'{"status":"ok"' + b" " * 586  # 600 bytes: two minutes at a byte every 0.2 s
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n" + BODY


@contextmanager
def trickling_server(answer: bytes = ANSWER, pause: float = 0.2) -> Iterator[str]:
    """Serve until the block ends; yields http://127.0.0.1:PORT. Each connection gets `answer`, byte by byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def trickle(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)  # the request
                for byte in answer:
                    if stopping.wait(pause):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return  # the client gave up: as it should

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=trickle, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        listener.close()
        time.sleep(0)  # let the handlers see `stopping`
