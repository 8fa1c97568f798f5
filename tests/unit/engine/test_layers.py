"""Rule sets in layers: a user's files sit on top of the pack, adding rules, changing settings by id (field by
field, with the file and line of each), switching rules off, or replacing one whole; every mistake is refused
with file:line and the closest name."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpipe.engine import RuleLoadError, RuleSet, default_rules_dir, load_rules

REFUND_RULE = """\
rules:
  - id: refund-failed-burst
    kind: threshold
    title: Refunds failing
    severity: critical
    runbook: Check the Stripe dashboard's refunds.
    match: {message: {regex: '^Refund failed:'}}
    count: 3
    window: 5m
    examples:
      match: ['[Nest] 1  - 11/27/2026, 9:01:10 AM   ERROR [RefundsService] Refund failed: re_1 (card_declined)']
      no_match: ['[Nest] 1  - 11/27/2026, 9:01:10 AM     LOG [RefundsService] Refund issued: re_1']
"""


def layered(tmp_path: Path, text: str, name: str = "mine.yml") -> RuleSet:
    (tmp_path / name).write_text(text)
    return load_rules([default_rules_dir(), tmp_path])


def problems(tmp_path: Path, text: str, *, pack: bool = True) -> list[str]:
    (tmp_path / "mine.yml").write_text(text)
    with pytest.raises(RuleLoadError) as raised:
        load_rules([default_rules_dir(), tmp_path] if pack else [tmp_path])
    return [str(error) for error in raised.value.errors]


PACK = load_rules()


def test_a_user_file_that_adds_one_rule_adds_one_rule_beside_the_pack(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, REFUND_RULE)
    assert [rule.info.id for rule in ruleset.rules] == [*(rule.info.id for rule in PACK.rules), "refund-failed-burst"]


def test_enabled_false_switches_a_pack_rule_off_and_it_stays_known(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, "overrides:\n  - id: signups-low\n    enabled: false\n")
    assert "signups-low" not in ruleset.index
    assert "signups-low" in ruleset.known_ids()
    entry = ruleset.entries["signups-low"]
    assert (entry.enabled, entry.overridden["enabled"].file, entry.overridden["enabled"].line) == (
        False,
        str(tmp_path / "mine.yml"),
        3,
    )


def test_an_override_changes_one_setting_and_keeps_the_rest_with_their_origins(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, "overrides:\n  - id: postgres-connection-errors-burst\n    count: 5\n")
    model = ruleset.rule("postgres-connection-errors-burst").info.model
    assert (model.count, model.window, model.severity) == (5, 60_000_000_000, "critical")  # type: ignore[union-attr]
    entry = ruleset.entries["postgres-connection-errors-burst"]
    assert (entry.origins["count"].file, entry.origins["count"].line) == (str(tmp_path / "mine.yml"), 3)
    assert entry.origins["window"].file == str(default_rules_dir() / "database.yml")
    assert list(entry.overridden) == ["count"]


def test_thresholds_merge_key_by_key(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, "overrides:\n  - id: http-error-rate\n    thresholds: {warning: 0.03}\n")
    thresholds = ruleset.rule("http-error-rate").info.model.thresholds  # type: ignore[union-attr]
    assert thresholds is not None
    assert (thresholds.warning, thresholds.critical) == (0.03, 0.10)


def test_above_replaces_two_levels_with_one(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, "overrides:\n  - id: http-error-rate\n    above: 0.2\n")
    model = ruleset.rule("http-error-rate").info.model
    assert (model.above, model.thresholds) == (0.2, None)  # type: ignore[union-attr]


def test_later_overrides_win_field_by_field(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("overrides:\n  - {id: api-down, window: 10m, severity: warning}\n")
    (tmp_path / "b.yml").write_text("overrides:\n  - {id: api-down, window: 15m}\n")
    entry = load_rules([default_rules_dir(), tmp_path]).entries["api-down"]
    assert (entry.model.window, entry.model.severity) == (15 * 60_000_000_000, "warning")  # type: ignore[union-attr]
    assert (Path(entry.origins["window"].file).name, Path(entry.origins["severity"].file).name) == ("b.yml", "a.yml")


def test_an_override_naming_no_rule_is_refused_with_the_closest_ids(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "overrides:\n  - id: stripe-webhook-signatures\n    severity: warning\n")
    assert found == (
        f"{tmp_path / 'mine.yml'}:2: overrides[0].id: no rule 'stripe-webhook-signatures' to override; did you mean "
        "'stripe-webhook-signature'?"
    )


def test_an_override_without_the_pack_loaded_says_so(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, REFUND_RULE + "overrides:\n  - {id: signups-low, enabled: false}\n", pack=False)
    assert "no rule 'signups-low' to override" in found
    assert "(no pack is loaded before this file: list `pack: clipforge` first in rules:)" in found


def test_an_override_cannot_change_the_match(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "overrides:\n  - id: signups-low\n    match: {message: x}\n")
    assert found.endswith(
        ":3: overrides[0].match: `match` cannot be overridden: it is what the rule matches or counts; to change it, "
        "write the whole rule again under rules: with `replace: true`"
    )


def test_an_unknown_override_key_gets_the_closest(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "overrides:\n  - id: api-down\n    windw: 10m\n")
    assert ":3: overrides[0].windw: unknown key 'windw'; did you mean 'window'?" in found


def test_an_overridden_value_is_checked_at_the_override_s_line(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "overrides:\n  - id: api-down\n    window: 10\n")
    assert ":3: overrides[0].window: expected a duration like '30s' or '5m', got 10 (needs a unit" in found


def test_a_setting_the_rule_s_kind_lacks_is_refused_at_the_override(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "overrides:\n  - id: http-error-rate\n    count: 5\n")
    assert found == (
        f"{tmp_path / 'mine.yml'}:3: overrides[0].count (of http-error-rate): unknown key 'count': a ratio rule has "
        "no `count`, threshold rules have it"
    )


def test_a_second_definition_needs_replace_true(tmp_path: Path) -> None:
    again = REFUND_RULE.replace("refund-failed-burst", "signups-low")
    (found,) = problems(tmp_path, again)
    assert "duplicate id 'signups-low', first defined at" in found
    replaced = layered(tmp_path, again.replace("    kind: threshold", "    replace: true\n    kind: threshold"))
    entry = replaced.entries["signups-low"]
    assert (entry.kind, Path(entry.defined.file).name) == ("threshold", "mine.yml")
    assert [Path(where.file).name for where in entry.replaced] == ["business.yml"]


def test_replace_true_naming_no_earlier_rule_is_refused(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, REFUND_RULE.replace("    kind: threshold", "    replace: true\n    kind: threshold"))
    assert ":3: rules[0].replace: replace: true, but no earlier rule has id 'refund-failed-burst'" in found


def test_type_for_kind_is_one_problem_with_did_you_mean(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, REFUND_RULE.replace("kind: threshold", "type: threshold"), pack=False)
    assert found == f"{tmp_path / 'mine.yml'}:3: rules[0].type: unknown key 'type'; did you mean `kind: threshold`?"


def test_every_problem_of_every_file_comes_in_one_run(tmp_path: Path) -> None:
    """A schema error in one rule used to hide a bad regex in the next, and a later file's mistakes."""
    broken = REFUND_RULE.replace("    count: 3", "    count: three") + REFUND_RULE.split("rules:\n", 1)[1].replace(
        "refund-failed-burst", "refund-slow"
    ).replace("'^Refund failed:'", "'^Refund (failed'")
    (tmp_path / "a.yml").write_text(broken)
    (tmp_path / "b.yml").write_text("overrides:\n  - {id: refund-slo, severity: info}\n  - {id: api-down, windw: 1m}\n")
    with pytest.raises(RuleLoadError) as raised:
        load_rules([tmp_path])
    found = [f"{Path(e.location.file).name}:{e.location.line}: {e.location.path}" for e in raised.value.errors]
    assert found == [
        "a.yml:8: rules[0].count",
        "a.yml:18: rules[1].match.message.regex",
        "b.yml:2: overrides[0].id",
        "b.yml:3: overrides[1].windw",
    ]


def test_an_inhibition_of_a_switched_off_rule_is_fine_and_a_typo_is_not(tmp_path: Path) -> None:
    ruleset = layered(tmp_path, "overrides:\n  - {id: postgres-connection-error, enabled: false}\n")
    assert "postgres-connection-error" not in ruleset.index
    (found,) = problems(tmp_path, "overrides:\n  - id: api-down\n    inhibits: [{rule: api-health-probe-failng}]\n")
    assert found.endswith(
        ":3: api-down.inhibits[0].rule: no rule 'api-health-probe-failng' to inhibit; did you mean "
        "'api-health-probe-failing'?"
    )
