"""Every wait has a deadline for the whole operation (issue 28), not per read: an endpoint that answers a byte at a
time never trips a per-read timeout, and before, a probe of one ran for hours (over 120 s with `--timeout 5s`)
while its gauge stayed up."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import orjson
import pytest

from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
from logpipe.telemetry import Telemetry
from tests.trickle import trickling_server
from tests.waiting import wait_until


def test_every_wait_has_a_deadline_logpipe_probe_of_a_byte_at_a_time_endpoint_ends_as_a_timeout() -> None:
    with trickling_server() as base:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "logpipe", "probe", f"{base}/health", "--timeout", "1s"],
                capture_output=True, timeout=30, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AssertionError("`logpipe probe --timeout 1s` still waiting after 30 s") from None
    assert done.returncode == 1, done.stderr
    fields = orjson.loads(done.stdout)["fields"]["probe"]
    assert (fields["ok"], fields["error"]) == (False, "timeout")


def test_every_wait_has_a_deadline_a_probe_thread_reports_each_check_of_a_trickling_endpoint_down() -> None:
    """The follower's probe thread: a failed reading per interval, within the timeout, however the endpoint
    trickles (one stuck connection at most)."""
    try:
        from logpipe.sources.probes.watch import ProbeRunner
    except ImportError:  # before the fix, the runner lived in probes/http.py: this test shows how it hung there
        from logpipe.sources.probes.http import ProbeRunner  # type: ignore[attr-defined,no-redef]

    seen: list[Event] = []
    stopping = threading.Event()
    with trickling_server() as base:
        config = ProbeConfig(name="api", url=f"{base}/health", interval="1s", timeout="1s")
        runner = ProbeRunner(config, seen.append, stopping)
        runner.start()
        try:
            wait_until(lambda: len(seen) >= 3, timeout=20, what="three readings of the trickling endpoint")
        finally:
            stopping.set()
            runner.join(timeout=10)
    assert [(e.fields["probe"]["ok"], e.fields["probe"]["error"]) for e in seen[:3]] == [(False, "timeout")] * 3
    assert [e.fields["probe"]["consecutive_failures"] for e in seen[:3]] == [1, 2, 3]
    assert sum(thread.name.startswith("check-api") for thread in threading.enumerate()) <= 1


def aborted(telemetry: Any, reason: str) -> float:
    return telemetry.registry.get_sample_value("logpipe_metrics_server_aborted_total", {"reason": reason}) or 0.0


def test_every_wait_has_a_deadline_the_metrics_port_cuts_off_a_request_trickling_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, a connection sending its request a byte at a time was served forever (a thread each)."""
    import logpipe.telemetry

    monkeypatch.setattr(logpipe.telemetry, "CONNECTION_DEADLINE", 1.0, raising=False)
    telemetry = Telemetry()
    port = telemetry.serve("127.0.0.1", 0)
    try:
        slow = socket.create_connection(("127.0.0.1", port))
        slow.settimeout(10)
        started, cut = time.monotonic(), False
        for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\n" * 10:  # a byte every 0.2 s: no single read waits long
            try:
                slow.sendall(bytes([byte]))
                time.sleep(0.2)  # the client's pace (what is tested is the server's deadline, not this wait)
            except OSError:
                cut = True
                break
            if time.monotonic() - started > 30:  # a safety net: thirty times the deadline
                break
        cut = cut or slow.recv(1) == b""
        slow.close()
        assert cut, "the server still waits for the request after 30 s"
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).status == 200  # still serving
    finally:
        telemetry.close()


def test_every_wait_has_a_deadline_a_scraper_gone_before_its_answer_is_counted_not_a_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    telemetry = Telemetry()
    port = telemetry.serve("127.0.0.1", 0)
    try:
        for _ in range(20):
            scraper = socket.create_connection(("127.0.0.1", port))
            scraper.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # leave with a reset
            # the request without its closing blank line: the server is still reading it when the reset comes (a
            # whole request may be answered before this process gets to its close on a loaded machine)
            scraper.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            scraper.close()
        wait_until(
            lambda: aborted(telemetry, "client_gone") + aborted(telemetry, "error") >= 20,
            timeout=30,
            what="the 20 scrapers gone before their answer counted",
        )
    finally:
        telemetry.close()
    assert "Traceback" not in capfd.readouterr().err
