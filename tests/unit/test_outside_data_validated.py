"""Data read from outside is validated at the boundary (issue 28): a health body, a pid file, the wall clock. Bad
data is refused, counted or corrected, never a traceback and never a thread gone quiet."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logpipe.cli import main
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


@pytest.mark.parametrize(
    ("config", "line", "field"),
    [
        ('channels:\n  hook: {url: "http://[::1/x"}\n', 2, "channels.hook"),  # an IPv6 address unclosed
        ('channels:\n  hook: {url: "https://user:s3cretpw@ops.example.com:80a/x"}\n', 2, "channels.hook"),
        ("state:\n  backend: redis\n  url: redis://:s3cretpw@127.0.0.1:abc/0\n", 3, "state.url"),
    ],
)
def test_outside_data_validated_a_url_with_an_unreadable_host_or_port_is_refused_at_its_line(
    tmp_path: Path, config: str, line: int, field: str
) -> None:
    """Issue 28, finding 17: such URLs passed the config's checks, then the sink or the Redis client raised a
    traceback (`logpipe notify test`, `doctor`, `fleet`, `follow`)."""
    path = tmp_path / "logpipe.yml"
    path.write_text(config)
    result = CliRunner().invoke(main, ["doctor", "--config", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line}: {field}:" in result.output
    assert "not a URL logpipe can read" in result.output
    assert "s3cretpw" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
