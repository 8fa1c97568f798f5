"""A TCP proxy on loopback that holds back each answer of the server behind it (a slow network or an overloaded
Redis): requests go through at once; each chunk of answer waits `delay` seconds, which the test changes while
the proxy runs (a latency spike, then recovery); with `only` set, just the answers to requests that contain it
(a slow script). `dribble` sends answers a byte at a time, each after `delay`: a
server that answers within every read's timeout but never finishes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass


@dataclass
class Latency:
    port: int = 0  # the proxy's
    delay: float = 0.0
    dribble: bool = False
    only: bytes = b""


@contextmanager
def latency_proxy(port: int, delay: float = 0.0) -> Iterator[Latency]:
    """Proxy to 127.0.0.1:`port` until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    latency = Latency(int(listener.getsockname()[1]), delay)
    stopping = threading.Event()

    def pipe(source: socket.socket, target: socket.socket, asked: list[bytes], answers: bool) -> None:
        """One direction: requests go at once (the last noted in `asked`); answers are held back (all, or those
        to a request with `only` in it)."""
        try:
            while not stopping.is_set():
                chunk = source.recv(65536)
                if not chunk:
                    break
                if not answers:
                    asked[0] = chunk
                if not answers or (latency.only and latency.only not in asked[0]):
                    target.sendall(chunk)
                elif latency.dribble:
                    for byte in chunk:
                        time.sleep(latency.delay)  # the slowness this proxy is for
                        target.sendall(bytes([byte]))
                else:
                    time.sleep(latency.delay)
                    target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", port))
            asked = [b""]  # the connection's last request
            threading.Thread(target=pipe, args=(client, upstream, asked, False), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client, asked, True), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield latency
    finally:
        stopping.set()
        listener.close()
