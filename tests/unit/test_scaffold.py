"""`logpipe init --full`: its commented examples (probes, the daily digest, a maintenance window) are a valid
config once uncommented, and name rules the pack has."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpipe.config.load import load_config
from logpipe.deploy.scaffold import EXAMPLE_CHANNELS, FULL_SECTIONS, Running, commented, config_text
from logpipe.engine import load_rules


def test_the_full_examples_uncommented_are_a_valid_config_naming_the_packs_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x")
    monkeypatch.setenv("SMTP_PASSWORD", "secret")
    text = "state_dir: state\n" + EXAMPLE_CHANNELS + "".join(FULL_SECTIONS.values())
    (tmp_path / "logpipe.yml").write_text(text)
    config = load_config(tmp_path / "logpipe.yml")
    assert [probe.label for probe in config.probes] == ["api", "db"]
    assert config.report is not None
    assert config.report.channels == ["oncall-email"]
    (window,) = config.maintenance
    pack = {rule.info.id for rule in load_rules().rules}
    assert set(window.rules) <= pack


def test_init_full_writes_each_example_commented_and_the_plain_init_none() -> None:
    running = [Running("clipforge-clipforge-api-1", "clipforge", "clipforge-api")]
    full, plain = config_text(running, full=True), config_text(running)
    for section in FULL_SECTIONS.values():
        assert commented(section) in full
        assert commented(section) not in plain
    assert all(line.startswith("#") or not line.strip() for line in full[len(plain) :].splitlines())
