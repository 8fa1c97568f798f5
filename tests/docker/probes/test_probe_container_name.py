"""A probe whose URL names a container (`http://clipforge-api:3000/health`, as Compose configs read), inside a
real `logpipe follow`: the host is found through Docker, the check reaches the container's address on a bridge
network, and stopping the container opens the pack's failing-probe incident, which resolves when it is back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.probes.conftest import Follower, short_rules
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

RULES = {"api-health-probe-failing": {"evaluate_every": "1s", "keep_firing_for": "1s", "window": "3s"}}


def test_a_probe_naming_a_container_reaches_it_and_opens_an_incident_while_it_is_stopped(
    tmp_path: Path, web_container: Callable[[], Any], follower: Callable[..., Follower]
) -> None:
    web = web_container()
    url = f"http://{web.name}:3000/health"
    config = "state_dir: state\nresources: {containers: false, disk: false}\nprobes:\n"
    config += f"  - {{name: api, url: '{url}', interval: 500ms, timeout: 400ms}}\n"
    logpipe = follower([web.name], config, [short_rules(tmp_path, "probes.yml", RULES)])

    # up: the check reached the container's address and read its health JSON; the event shows the URL as written
    logpipe.wait_for_gauge("logpipe_probe_up", probe="api")
    wait_until(lambda: any(e["fields"]["probe"]["ok"] for e in logpipe.events("probe")), what=logpipe.log.read_text)
    first = next(e["fields"]["probe"] for e in logpipe.events("probe") if e["fields"]["probe"]["ok"])
    assert (first["status"], first["url"], first["health"]) == (200, url, "up")
    assert first["components"] == {"database": "up", "redis": "up", "storage": "up"}
    logpipe.quiet_over("probe", 4)  # passing checks, past the rule's window: nothing fires

    # stopped: each check says the container is not running; three in a row open the incident
    web.kill()
    failing = logpipe.wait_for("api-health-probe-failing", "firing", **{"probe.name": "api"})
    reason = failing["event"]["fields"]["probe"]
    assert (reason["error"], reason["detail"]) == ("container", f"container {web.name} is not running")
    assert logpipe.gauge("logpipe_probe_up", probe="api") == 0.0

    # started again (a new address, found at the next check): the incident resolves
    web.start()
    logpipe.wait_for("api-health-probe-failing", "resolved", **{"probe.name": "api"})
    assert logpipe.gauge("logpipe_probe_up", probe="api") == 1.0
    logpipe.stop()
    assert [(a["rule"], a["status"]) for a in logpipe.alerts()] == [
        ("api-health-probe-failing", "firing"),
        ("api-health-probe-failing", "resolved"),
    ]
