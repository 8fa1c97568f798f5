"""Configurations that would silently do nothing are refused at load, each with file:line and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.config.load import load_config
from logpipe.errors import ConfigError

RULE = """rules:
  - id: boom
    title: Boom
    runbook: none
    severity: critical
    match: {message: {contains: boom}}
    actions: [oncall-slak]
    examples: {match: [boom]}
"""


def write(tmp_path: Path, text: str, name: str = "logpipe.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_unset_variable_is_an_error_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGPIPE_TEST_UNSET", raising=False)
    path = write(tmp_path, "channels:\n  ops:\n    url: 'https://x/${LOGPIPE_TEST_UNSET}'\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}:3: channels.ops.url: ${{LOGPIPE_TEST_UNSET}} is not set; set LOGPIPE_TEST_UNSET, "
        "or write ${LOGPIPE_TEST_UNSET:-default}"
    )


def test_a_default_covers_an_unset_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGPIPE_TEST_UNSET", raising=False)
    monkeypatch.setenv("LOGPIPE_TEST_SET", "hooks.example.com")
    path = write(
        tmp_path,
        "sentry: {dsn: '${LOGPIPE_TEST_UNSET:-}'}\n"
        "channels:\n  ops: {url: 'https://${LOGPIPE_TEST_SET}/${LOGPIPE_TEST_UNSET:-default}'}\n",
    )
    config = load_config(path)
    assert config.channels["ops"].url == "https://hooks.example.com/default"
    assert config.sentry.dsn == ""


def test_a_route_to_an_unknown_channel_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  ops: {url: 'https://x'}\nroutes:\n  critical:\n    - sentry\n    - opps\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert (
        str(raised.value)
        == f"{path}:6: routes.critical[1]: unknown channel 'opps'; did you mean 'ops'? (expected one of: ops, sentry)"
    )


def test_a_missing_rules_path_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - rules/\n  - missing/\n")
    (tmp_path / "rules").mkdir()
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}:3: rules[1]: no such file or directory: {tmp_path / 'missing'}"


def test_a_rules_path_the_file_system_cannot_look_up_is_refused_at_its_line(tmp_path: Path) -> None:
    """A name longer than the file system allows was an OSError traceback (found by bench/fuzz_guided.py)."""
    path = write(tmp_path, "rules:\n  - " + "r" * 300 + "\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}:2: rules[0]: File name too long: {tmp_path / ('r' * 300)}"


def test_the_cli_reports_a_missing_rules_path_in_one_line(tmp_path: Path) -> None:
    config = write(tmp_path, "rules: [nowhere/]\n")
    log = write(tmp_path, "hello\n", "app.log")
    result = CliRunner().invoke(main, ["replay", "--config", str(config), str(log)])
    assert result.exit_code == 1
    assert result.output == f"Error: {config}:1: rules[0]: no such file or directory: {tmp_path / 'nowhere'}\n"


def test_an_empty_rule_set_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    write(tmp_path / "rules", "extract: []\n", "empty.yml")
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path / "rules")])
    assert result.exit_code == 1
    assert "no rules or metrics found" in result.output
    assert "ok:" not in result.output


def test_a_rule_action_naming_no_channel_is_refused_with_the_config(tmp_path: Path) -> None:
    rules = write(tmp_path, RULE, "rules.yml")
    config = write(tmp_path, "channels:\n  oncall-slack: {url: 'https://hooks.slack.com/x'}\n")
    expected = (
        f"{rules}:2: rules[boom].actions: unknown channel 'oncall-slak'; the config defines: oncall-slack, sentry"
    )
    for command in (["rules", "check", str(rules)], ["replay", "--rules", str(rules), str(rules)]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 1, result.output
        assert expected in result.output.splitlines()
    # without a config, alerts go to the console only: nothing to check
    assert CliRunner().invoke(main, ["rules", "check", str(rules)]).exit_code == 0


def test_rule_sources_name_the_pack_then_the_user_s_files(tmp_path: Path) -> None:
    from logpipe.engine import default_rules_dir

    (tmp_path / "rules.d").mkdir()
    path = write(tmp_path, "rules:\n  - pack: clipforge\n  - rules.d/\n")
    assert load_config(path).rules == [default_rules_dir(), tmp_path / "rules.d"]


def test_an_unknown_pack_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - pack: clipforg\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}:2: rules[0].pack: no rule pack 'clipforg'; did you mean 'clipforge'? (packs: clipforge)"
    )


def test_every_problem_of_the_config_comes_in_one_run(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "channels:\n  ops: {url: 'https://x'}\nroutes:\n  critical: [opps]\nrules: [missing/]\n"
        "report: {daily_at: '08:00', channels: [opps]}\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert [line.split(": ", 2)[1] for line in str(raised.value).splitlines()] == [
        "routes.critical[0]",
        "rules[0]",
        "report.channels[0]",
    ]


def test_a_mistyped_config_key_gets_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "chanels:\n  ops: {url: 'https://x'}\nsentry: {environmnt: prod}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).splitlines() == [
        f"{path}:1: chanels: unknown key; did you mean 'channels'?",
        f"{path}:3: sentry.environmnt: unknown key; did you mean 'environment'?",
    ]
