"""Every duration has a maximum, refused with file:line (issue 28, finding 10), and the reload boundary catches
everything and refuses (findings 10 and 18). Before, `rules check` accepted `throttle: 999999999999d` and `follow`
crashed at its first notification (and after each restart); `silence add --for 106752d` was a traceback; a
reload with a 400-digit duration killed the running follower."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from logpipe.agent.reload import Reloader
from logpipe.cli import main

HUGE = ["999999999999d", "106752d", "1" * 400 + "s", "3651d"]
RULE = """
rules:
  - id: payment-failed
    title: Payment failed
    runbook: Look at the provider's dashboard.
    match: {{message: {{contains: "payment failed"}}}}
    throttle: {throttle}
    examples: {{match: ['payment failed: card_declined']}}
"""


@pytest.mark.parametrize("huge", HUGE)
def test_every_duration_has_a_maximum_rules_check_refuses_it_at_its_line(huge: str, tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(RULE.format(throttle=huge))
    result = CliRunner().invoke(main, ["rules", "check", "--rules", str(tmp_path / "rules.yml")])
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'rules.yml'}:7: rules[0].throttle: a duration may be at most 3650d" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("huge", HUGE)
def test_every_duration_has_a_maximum_silence_add_refuses_it_as_a_usage_error(huge: str, tmp_path: Path) -> None:
    (tmp_path / "logpipe.yml").write_text(f"state_dir: {tmp_path / 'state'}\n")
    args = ["silence", "add", "--rule", "*", "--for", huge, "--reason", "r", "--config", str(tmp_path / "logpipe.yml")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "a duration may be at most 3650d" in result.output


def test_every_duration_has_a_maximum_the_config_refuses_it_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "logpipe.yml").write_text("state_dir: state\noutbox:\n  retention: 999999999999d\n")
    result = CliRunner().invoke(main, ["rules", "check", "--config", str(tmp_path / "logpipe.yml")])
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'logpipe.yml'}:3: outbox.retention: " in result.output
    assert "a duration may be at most 3650d" in result.output


def reloader(tmp_path: Path, knowing_the_running_config: bool = False) -> Reloader:
    from logpipe.config import load_config

    (tmp_path / "rules.yml").write_text(RULE.format(throttle="5m"))
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules.yml]\n")
    if knowing_the_running_config:
        return Reloader(tmp_path / "logpipe.yml", [], None, load_config(tmp_path / "logpipe.yml"))
    return Reloader(tmp_path / "logpipe.yml", [], None)


def test_reload_boundary_refuses_a_400_digit_duration_and_the_running_rules_stay(tmp_path: Path) -> None:
    reload = reloader(tmp_path)
    assert reload() is not None
    (tmp_path / "rules.yml").write_text(RULE.format(throttle="1" * 400 + "s"))
    with capture_logs() as logs:
        assert reload() is None
    assert [entry["event"] for entry in logs] == ["reload refused; the running rules stay"]


def test_reload_boundary_refuses_whatever_raises_inside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reload = reloader(tmp_path)

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in a loader")

    monkeypatch.setattr("logpipe.agent.reload.load_rules", broken)
    with capture_logs() as logs:
        assert reload() is None
    assert logs[0]["event"].startswith("reload refused")


def test_reload_boundary_says_a_changed_state_needs_a_restart(tmp_path: Path) -> None:
    reload = reloader(tmp_path, knowing_the_running_config=True)
    (tmp_path / "logpipe.yml").write_text(
        "state_dir: elsewhere\nrules: [rules.yml]\nstate: {backend: redis, url: 'redis://127.0.0.1:1/0'}\n"
    )
    with capture_logs() as logs:
        assert reload() is not None  # the rules are applied
    (warning,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert warning["settings"] == ["state_dir", "state"]


@pytest.mark.parametrize("wait", ["1e300", "-5", "999999999999d"])
def test_every_duration_has_a_maximum_a_bare_number_of_seconds_too(wait: str) -> None:
    result = CliRunner().invoke(main, ["replay", "--wait", wait, "-"], input="")
    assert result.exit_code == 2, result.output
    assert (
        "a duration is from 0 to at most 3650d" in result.output or "a duration may be at most 3650d" in result.output
    )
