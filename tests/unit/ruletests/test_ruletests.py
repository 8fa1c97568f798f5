"""Rule tests over time: lines at given times in, notifications expected out, decided as a replay decides; a
failure is a readable diff, a mistake in a test file is file:line: field, and CI gets JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from logpipe.engine import load_rules
from logpipe.ruletests.format import read_test_file
from logpipe.ruletests.report import Case, case_of, outcome_lines, write_junit
from logpipe.ruletests.run import run_suite
from tests.unit.engine.test_layers import REFUND_RULE

FAILED = "'[Nest] 1  - 11/27/2026, 9:01:10 AM   ERROR [RefundsService] Refund failed: re_1 (card_declined)'"
TESTS = f"""\
tests:
  - name: three refund failures in five minutes page once
    start: 2026-11-27T09:00:00Z
    input:
      - {{at: +0s, line: {FAILED}, repeat: 4, every: 1m}}
    until: +30m
    expect:
      - {{at: +2m, rule: refund-failed-burst, status: firing, count: 3, total: 3}}
      - {{at: +7m, rule: refund-failed-burst, status: update, count: 1, total: 4}}
      - {{at: +8m, rule: refund-failed-burst, status: resolved, count: 0, total: 4}}
  - name: two failures are not a burst
    rules: [refund-failed-burst]
    input:
      - {{at: +0s, line: {FAILED}, repeat: 2, every: 1m}}
"""


def write(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "refunds.yml").write_text(REFUND_RULE)
    (tmp_path / "refunds.test.yml").write_text(tests)
    return tmp_path


def test_a_burst_fires_updates_and_resolves_at_the_times_a_replay_gives(tmp_path: Path) -> None:
    suite = run_suite(load_rules([write(tmp_path, TESTS)]), [tmp_path])
    assert suite.problems == []
    assert [(o.test.name, o.status) for o in suite.outcomes] == [
        ("three refund failures in five minutes page once", "passed"),
        ("two failures are not a burst", "passed"),
    ]


def test_a_failure_shows_expected_against_got(tmp_path: Path) -> None:
    folder = write(tmp_path, TESTS.replace("count: 3, total: 3}", "count: 2, total: 2}"))
    (outcome, _) = run_suite(load_rules([folder]), [folder]).outcomes
    assert list(outcome_lines(outcome))[1:] == [
        "     (- expected, + got)",
        "     - +2m refund-failed-burst firing count=2 total=2",
        "     + +2m refund-failed-burst firing count=3 total=3",
        "       +7m refund-failed-burst update count=1 total=4",
        "       +8m refund-failed-burst resolved count=0 total=4",
    ]


def test_a_changed_threshold_fails_the_test(tmp_path: Path) -> None:
    (tmp_path / "refunds.test.yml").write_text(TESTS)
    (tmp_path / "refunds.yml").write_text(REFUND_RULE.replace("count: 3", "count: 4"))
    statuses = [o.status for o in run_suite(load_rules([tmp_path]), [tmp_path]).outcomes]
    assert statuses == ["failed", "passed"]


def test_mistakes_in_a_test_file_are_file_line_field(tmp_path: Path) -> None:
    unknown_key = TESTS.replace("    until: +30m", "    untill: +30m")
    mistakes = TESTS.replace("status: update", "status: updated").replace("at: +0s, line", "at: 0s, line", 1)
    mistakes = mistakes.replace(
        "rule: refund-failed-burst, status: firing", "rule: refund-failed-bursts, status: firing"
    )
    found = []
    for text in (unknown_key, mistakes):
        folder = write(tmp_path, text)
        _, problems = read_test_file(folder / "refunds.test.yml", load_rules([folder]).known_ids())
        found += [str(problem).removeprefix(str(folder) + "/") for problem in problems]
    assert found == [
        "refunds.test.yml:6: tests[0].untill: unknown key 'untill'; did you mean 'until'?",
        "refunds.test.yml:9: tests[0].expect[1].status: Input should be 'firing', 'update', 'resolved', 'flapping' "
        "or 'reminder'",
    ]
    folder = write(tmp_path, mistakes.replace("status: updated", "status: update"))
    _, problems = read_test_file(folder / "refunds.test.yml", load_rules([folder]).known_ids())
    assert [str(problem).removeprefix(str(folder) + "/") for problem in problems] == [
        "refunds.test.yml:5: tests[0].input[0].at: expected +30s (after start) or an ISO 8601 time, got '0s'",
        "refunds.test.yml:8: tests[0].expect[0].rule: no rule 'refund-failed-bursts'; did you mean "
        "'refund-failed-burst'?",
    ]


def test_junit_xml_has_a_case_per_test_with_its_failure(tmp_path: Path) -> None:
    folder = write(tmp_path, TESTS.replace("count: 3, total: 3}", "count: 2, total: 2}"))
    suite = run_suite(load_rules([folder]), [folder])
    report = tmp_path / "junit.xml"
    write_junit(report, [case_of(o) for o in suite.outcomes] + [Case("examples", "refund-failed-burst", "passed")])
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    (failure,) = root.iter("failure")
    assert "- +2m refund-failed-burst firing count=2 total=2" in (failure.text or "")
