"""The pack's tests over time (rules/*.test.yml): each passes, every windowed or counted rule has one, and a
threshold changed in a copy of the pack fails its test, through `logpipe rules test` as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import default_rules_dir, load_rules
from logpipe.ruletests.report import outcome_lines
from logpipe.ruletests.run import run_suite

PACK = load_rules()
SUITE = run_suite(PACK, [default_rules_dir()])
WINDOWED_OR_COUNTED = sorted(rule.info.id for rule in PACK.rules if rule.kind != "every")


def test_the_pack_s_test_files_read_without_a_problem() -> None:
    assert [str(problem) for problem in SUITE.problems] == []
    assert len(SUITE.files) >= 9


@pytest.mark.parametrize(
    "outcome", SUITE.outcomes, ids=lambda outcome: f"{outcome.test.file.stem}: {outcome.test.name}"
)
def test_pack_test_passes(outcome: object) -> None:
    assert outcome.status == "passed", "\n".join(outcome_lines(outcome))  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule_id", WINDOWED_OR_COUNTED)
def test_every_windowed_or_counted_rule_has_a_test_that_expects_its_notifications(rule_id: str) -> None:
    expecting = [o.test.name for o in SUITE.outcomes if any(e.rule == rule_id for e in o.test.expected)]
    assert expecting, f"no test in rules/*.test.yml expects a notification of {rule_id}"


def test_folding_flapping_and_escalation_each_have_a_test() -> None:
    expected = [item for outcome in SUITE.outcomes for item in outcome.test.expected]
    assert any(dict(item.fields).get("symptoms") for item in expected)  # a cause lists what it folded
    assert any(item.status == "flapping" for item in expected)
    assert any(dict(item.fields).get("reason") == "escalated" for item in expected)


def broken_pack(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(default_rules_dir(), copy, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    text = (copy / file).read_text()
    assert old in text
    (copy / file).write_text(text.replace(old, new, 1))
    return copy


@pytest.mark.parametrize(
    ("file", "old", "new", "failing"),
    [
        (  # the Postgres burst: 4 errors in a minute instead of 3
            "database.yml",
            "    count: 3\n    window: 1m\n",
            "    count: 4\n    window: 1m\n",
            [
                "three connection errors in a minute page once as an outage, the single errors folded in",
                "an outage folds in the exceptions and credit failures it causes, and still counts every match",
            ],
        ),
        (  # the error rate's warning level: 7 % instead of 5 %
            "access-logs.yml",
            "thresholds: {warning: 0.05, critical: 0.10}",
            "thresholds: {warning: 0.07, critical: 0.10}",
            [
                "http-error-rate pages once per level, escalating from warning to critical, and resolves a minute "
                "after it clears"
            ],
        ),
    ],
)
def test_a_deliberately_broken_threshold_fails_its_test(
    tmp_path: Path, file: str, old: str, new: str, failing: list[str]
) -> None:
    copy = broken_pack(tmp_path, file, old, new)
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(copy)])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert [line.split(" ", 2)[2] for line in failed] == failing
    assert "(- expected, + got)" in result.output
