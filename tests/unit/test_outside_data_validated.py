"""Data read from outside is validated at the boundary (issue 28): a health body, a pid file, the wall clock. Bad
data is refused, counted or corrected, never a traceback and never a thread gone quiet."""

from __future__ import annotations

import threading

import orjson

from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
from tests.bodyserver import body_server
from tests.waiting import wait_until


def test_outside_data_validated_a_health_body_nested_300_deep_is_refused_and_the_probe_checks_on() -> None:
    """Before, orjson refused to write the reading, the probe's thread died, and its gauge stayed frozen at up."""
    try:
        from logpipe.sources.probes.watch import ProbeRunner
    except ImportError:  # before the fix, the runner lived in probes/http.py
        from logpipe.sources.probes.http import ProbeRunner  # type: ignore[attr-defined,no-redef]

    deep = b'{"status":"ok","x":' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}"
    seen: list[Event] = []
    stopping = threading.Event()
    with body_server([deep]) as url:
        runner = ProbeRunner(ProbeConfig(name="api", url=url, interval="500ms", timeout="500ms"), seen.append, stopping)
        runner.start()
        try:
            wait_until(lambda: len(seen) >= 2, timeout=20, what="two readings of the deep body")
        finally:
            stopping.set()
            runner.join(timeout=10)
    fields = seen[0].fields["probe"]
    assert (fields["ok"], fields["status"], fields["body_refused"]) == (True, 200, "nested deeper than 32 levels")
    assert "body" not in fields
    orjson.loads(seen[0].to_json())
