"""Every wait has a deadline for the whole operation (issue 28), not per read: an endpoint that answers a byte at a
time never trips a per-read timeout, and before, a probe of one ran for hours (over 120 s with `--timeout 5s`)
while its gauge stayed up."""

from __future__ import annotations

import subprocess
import sys
import threading

import orjson

from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
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
