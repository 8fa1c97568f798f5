"""Loading refuses bad rule files with file, line, field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import RuleLoadError, load_rules

GOOD_RULE = """
rules:
  - id: stripe-signature
    title: Stripe signature failure
    runbook: Check the webhook secret.
    match: {message: {contains: "No signatures found"}}
    examples:
      match: ['No signatures found matching the expected signature']
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(RuleLoadError) as raised:
        load_rules([path])
    return [str(error) for error in raised.value.errors]


def test_a_good_rule_loads(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(GOOD_RULE)
    assert [rule.info.id for rule in load_rules([tmp_path]).rules] == ["stripe-signature"]


def test_unknown_key_names_file_line_field_the_closest_key_and_expected_keys(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD_RULE.replace("    runbook:", "    severty: critical\n    runbook:"))
    where = f"{tmp_path / 'bad.yml'}:5: rules[0].severty"
    assert found.startswith(f"{where}: unknown key 'severty'; did you mean 'severity'? (expected one of: id,")


def test_bad_regex_is_located_at_its_line(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD_RULE.replace('{contains: "No signatures found"}', "{regex: 'No (sig'}"))
    where = f"{tmp_path / 'bad.yml'}:6: rules[0].match.message.regex"
    assert found == f"{where}: invalid regex: missing ), unterminated subpattern at position 3"


def test_lookahead_is_refused_naming_the_construct(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD_RULE.replace('{contains: "No signatures found"}', "{regex: 'No (?=sig)'}"))
    where = f"{tmp_path / 'bad.yml'}:6: rules[0].match.message.regex"
    assert found.startswith(f"{where}: regex uses a lookahead or lookbehind ((?=...) or (?<=...)), which needs a")


def test_window_without_unit_is_refused(tmp_path: Path) -> None:
    text = GOOD_RULE.replace("\n    match:", "\n    kind: threshold\n    count: 3\n    window: 5\n    match:")
    (found,) = problems(tmp_path, text)
    assert (
        ":8: rules[0].window: expected a duration like '30s' or '5m', got 5 (needs a unit: ms, s, m, h or d)" in found
    )


def test_unknown_operator_and_level(tmp_path: Path) -> None:
    text = GOOD_RULE.replace(
        '{message: {contains: "No signatures found"}}', "{message: {contain: x}, level: {gte: loud}}"
    )
    found = problems(tmp_path, text)
    assert len(found) == 1  # the first problem in a rule stops its compilation
    assert "rules[0].match.message.contain: unknown operator 'contain'; expected one of eq, ne, in" in found[0]


def test_an_unknown_key_that_looks_like_a_pydantic_step_is_named(tmp_path: Path) -> None:
    """Any text is a YAML key: one with a bracket was taken for pydantic's own step and loading crashed with an
    IndexError (found by bench/fuzz_guided.py)."""
    (found,) = problems(tmp_path, "extract-user[0]: x\n" + GOOD_RULE)
    expected = (
        "unknown key 'extract-user[0]'; did you mean 'extract'? (expected one of: extract, rules, overrides, metrics)"
    )
    assert f":1: extract-user[0]: {expected}" in found


def test_missing_examples_refuse_the_rule(tmp_path: Path) -> None:
    text = GOOD_RULE.split("    examples:", maxsplit=1)[0]
    (found,) = problems(tmp_path, text)
    assert ":3: rules[0].examples: required key 'examples' is missing" in found


def test_kind_specific_settings_are_checked(tmp_path: Path) -> None:
    (found,) = problems(
        tmp_path, GOOD_RULE.replace("\n    match:", "\n    kind: ratio\n    window: 5m\n    above: 0.1\n    match:")
    )
    assert "rules[0].base: required key 'base' is missing" in found


def test_a_setting_the_kind_does_not_read_is_refused_naming_the_kind_that_has_it(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD_RULE.replace("\n    match:", "\n    min_base: 10\n    match:"))
    assert found.endswith(
        ": rules[0].min_base: unknown key 'min_base': an every rule has no `min_base`, ratio rules have it; "
        "did you forget `kind: ratio`?"
    )


def test_a_setting_no_kind_has_is_refused_with_the_kind_s_keys(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD_RULE.replace("\n    match:", "\n    trottle: 10m\n    match:"))
    assert ": rules[0].trottle: unknown key 'trottle'; did you mean 'throttle'? (expected one of: id," in found
    assert "resolve_after" in found


def test_an_unknown_kind_names_the_kinds(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD_RULE.replace("\n    match:", "\n    kind: ratioo\n    match:"))
    assert any("rules[0].kind: unknown kind; expected one of: every, threshold, sequence" in p for p in found)


def test_the_published_schema_has_one_schema_per_kind() -> None:
    from logpipe.engine.schema import json_schema

    defs = json_schema()["$defs"]
    assert {"EveryModel", "ThresholdModel", "RatioModel", "AggregateModel", "AbsenceModel", "SequenceModel"} <= set(
        defs
    )
    assert "min_base" in defs["RatioModel"]["properties"]
    assert "min_base" not in defs["EveryModel"]["properties"]


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD_RULE)
    (tmp_path / "b.yml").write_text(GOOD_RULE)
    with pytest.raises(RuleLoadError) as raised:
        load_rules([tmp_path])
    assert str(raised.value) == (
        f"{tmp_path / 'b.yml'}:3: rules[0].id: duplicate id 'stripe-signature', first defined at "
        f"{tmp_path / 'a.yml'}:3: rules[0].id; to replace that rule write `replace: true`, to change some of its "
        "settings use `overrides:`"
    )


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "rules:\n  - id: x\n    title: [unclosed\n")
    assert found.startswith(f"{tmp_path / 'bad.yml'}:4: invalid YAML")


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "one.yml").write_text(GOOD_RULE.replace("stripe-signature", "Bad Id"))
    (tmp_path / "two.yml").write_text("rules: 3\n")
    with pytest.raises(RuleLoadError) as raised:
        load_rules([tmp_path])
    assert [error.location.path for error in raised.value.errors] == ["rules[0].id", "rules"]


def test_rules_check_cli_reports_and_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(GOOD_RULE.replace("contains", "contain"))
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "rules[0].match.message.contain: unknown operator" in result.output
    assert "Traceback" not in result.output


def test_rules_check_of_the_shipped_pack() -> None:
    result = CliRunner().invoke(main, ["rules", "check"])
    assert result.exit_code == 0
    assert result.output.startswith("ok: ")
