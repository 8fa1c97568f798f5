"""deploy/prometheus/logpipe-rules.yml, the alerting rules for logpipe itself, through Debian's promtool: they
are valid (`promtool check rules`) and each fires on what should page and not on what should not (`promtool test
rules` runs logpipe-rules.test.yml beside them). That they load in a real Prometheus scraping a real follower is
tests/docker/test_dashboard.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT, unavailable

pytestmark = pytest.mark.integration

RULES = ROOT / "deploy" / "prometheus" / "logpipe-rules.yml"


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        unavailable("Debian's prometheus package (promtool) is not installed (.ci/run installs it)")
    assert found is not None
    return found


def test_the_rules_are_valid(promtool: str) -> None:
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_each_rule_fires_on_what_should_page_and_not_on_what_should_not(promtool: str) -> None:
    tested = subprocess.run(
        [promtool, "test", "rules", RULES.with_name("logpipe-rules.test.yml").name],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULES.parent,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert {rule["alert"] for rule in _rules()} == {
        "LogpipeDown",
        "LogpipeReadLagGrowing",
        "LogpipeOutboxBackingUp",
        "LogpipeReloadFailed",
        "LogpipeRulesDisabled",
    }
    tests = (RULES.parent / "logpipe-rules.test.yml").read_text()
    for rule in _rules():
        assert f"alertname: {rule['alert']}" in tests, f"{rule['alert']} has no promtool test"


def _rules() -> list[dict[str, str]]:
    import yaml

    (group,) = yaml.safe_load(RULES.read_text())["groups"]
    return list(group["rules"])
