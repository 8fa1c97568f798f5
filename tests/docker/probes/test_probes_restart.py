"""Probe windows across a restart of `logpipe follow`: the readings before it are kept in the state directory and
rebuild the windows at start (the containers' logs hold none to re-read), so the uptime rule judges the checks of
both runs together, and each probe takes up what it remembered (here: the API's uptime, which went down while
logpipe was away, is a restart)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.probes.conftest import Follower, short_rules
from tests.healthserver import HealthState, health_server
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

# the uptime rule on a scale of seconds: judged over a minute, once 20 checks are in, above 25 % failed
RULES = {
    "api-uptime-below-99": {"window": "60s", "evaluate_every": "1s", "min_base": 20, "above": 0.25},
    "api-process-restarted": {},
}


def test_failed_checks_before_a_restart_count_in_the_uptime_window_after_it(
    tmp_path: Path, container: Callable[..., Any], follower: Callable[..., Follower]
) -> None:
    box = container("sleep 3600")
    state = HealthState(database_up=False)  # /health answers 200, but its body says error: the checks fail
    rules = [short_rules(tmp_path, "probes.yml", RULES)]
    with health_server(state) as base:
        probe = f"  - {{name: api, url: '{base}/health', interval: 250ms, timeout: 200ms, body: {{status: ok}}}}\n"
        config = f"state_dir: state\nresources: {{containers: false, disk: false}}\nprobes:\n{probe}"

        # first run: 6 to 19 failed checks, fewer than the 20 the rule needs: nothing to judge yet
        first = follower([box.name], config, rules)
        failed_checks = lambda: sum(1 for e in first.events("probe") if not e["fields"]["probe"]["ok"])  # noqa: E731
        wait_until(lambda: failed_checks() >= 6, what=lambda: first.log.read_text()[-2000:])
        first.stop()
        failed = [e["fields"]["probe"] for e in first.events("probe")]
        assert first.alerts() == []
        assert 6 <= len(failed) < 20
        assert [probe["ok"] for probe in failed] == [False] * len(failed)

        # logpipe is away; the API comes back, restarted (its uptime starts again); then logpipe starts again
        state.database_up, state.uptime = True, 5.0
        second = follower([box.name], config, rules)
        restarted = second.wait_for("api-process-restarted", "firing", **{"probe.name": "api"})
        assert restarted["event"]["fields"]["probe"]["uptime"] == 5.0
        # every check of the second run passes: only the first run's failures can make the ratio
        below = second.wait_for("api-uptime-below-99", "firing", **{"probe.name": "api"})
        # (the probe thread keeps each reading for the next run as it comes: a check that ends during the stop is
        # kept though the follower no longer wrote it to --events-out, so one more failure than `failed` may count)
        assert 0.25 < below["value"] <= (len(failed) + 1) / 20
        second.stop()

    second_checks = [e["fields"]["probe"] for e in second.events("probe")][len(failed) :]
    assert len(second_checks) >= 20 - len(failed)
    assert all(probe["ok"] for probe in second_checks)
    assert "readings from before the restart" in second.log.read_text()
