"""Rule regexes run on RE2: linear in the text whatever the pattern; constructs that need backtracking are
refused at load with the construct named. How long each engine takes on the pathological patterns is printed by
bench/regex_bounds.py; here a short timeout is the guard (Python's `re` took from 26 s to hours on them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logpipe.engine import Engine
from logpipe.engine.linear import LinearRegex, RegexRefused

from .helpers import event, ruleset

# each of these ran for over a minute in Python's `re` on 100 KB of the text beside it
PATHOLOGICAL = [
    ("(a|a)*b", "a" * 100_000),
    (r"(\w|\d)+$", "a" * 100_000 + "!"),
    (".*.*.*=", "x" * 100_000),
    # the shipped process-crash rule's pattern, 26.6 s in `re` on 1 MB of repeated "FATAL ERROR: "
    (
        r"FATAL ERROR: .*JavaScript heap out of memory|Reached heap limit Allocation failed|"
        r"node:internal/process/promises.* triggerUncaughtException|^\s*throw err;",
        "FATAL ERROR: " * 80_000,
    ),
]


HANG = pytest.mark.timeout(20)  # RE2 answers in milliseconds; a backtracking engine would not answer at all


@HANG
@pytest.mark.parametrize(("pattern", "text"), PATHOLOGICAL, ids=[p[:20] for p, _ in PATHOLOGICAL])
def test_pathological_pattern_is_searched_to_the_end(pattern: str, text: str) -> None:
    assert LinearRegex(pattern).search(text) is None


@HANG
def test_pathological_rule_through_the_engine_is_searched_to_the_end(tmp_path: Path) -> None:
    rules = ruleset(
        tmp_path,
        """
rules:
  - id: slow
    title: Slow
    runbook: none
    match: {message: {regex: '(a|a)*b'}}
    examples:
      match: ['aab']
""",
    )
    assert Engine(rules).process(event(0, "a" * 100_000)) == []


def test_named_groups_are_captured_and_typed(tmp_path: Path) -> None:
    rules = ruleset(
        tmp_path,
        """
rules:
  - id: payment
    title: Payment
    runbook: none
    match: {message: {regex: 'user (?P<user>usr_\\w+) paid (?P<amount>\\d+)( cents)?'}}
    group_by: [user]
    examples:
      match: ['user usr_1 paid 5']
""",
    )
    (alert,) = Engine(rules).process(event(0, "user usr_abc paid 500"))
    assert dict(alert.group) == {"user": "usr_abc"}
    assert alert.data["amount"] == 500


def test_groups_that_take_no_part_are_none() -> None:
    regex = LinearRegex("(?P<a>x)|(?P<b>y)")
    found = regex.search("y")
    assert found == (None, "y")
    assert regex.groupdict(found) == {"b": "y"}


def test_ignore_case_and_non_ascii_text() -> None:
    regex = LinearRegex("café (?P<who>\\w+)", ignore_case=True)
    assert regex.search("→ CAFÉ bob") == ("bob",)


def test_backslash_capital_z_means_end_of_text() -> None:
    assert LinearRegex("done\\Z").search("all done") == ()
    assert LinearRegex("done\\Z").search("done later") is None


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        ("(a)\\1", "a backreference"),
        ("(?P<x>a)(?P=x)", "a backreference"),
        ("foo(?!bar)", "a negative lookahead or lookbehind"),
        ("(?<=x)y", "a lookahead or lookbehind"),
        ("(?>ab)c", "an atomic group"),
        ("a++", "a possessive repeat"),
        ("(a)?(?(1)b|c)", "a conditional group"),
    ],
)
def test_backtracking_constructs_are_refused_by_name(pattern: str, construct: str) -> None:
    with pytest.raises(RegexRefused, match=f"regex uses {construct.replace('(', '[(]')}"):
        LinearRegex(pattern)


def test_syntax_errors_keep_pythons_message() -> None:
    with pytest.raises(RegexRefused, match="invalid regex: missing \\), unterminated subpattern at position 0"):
        LinearRegex("(ab")


def test_re2_limits_are_reported() -> None:
    with pytest.raises(RegexRefused, match=re.escape("regex not supported by RE2: invalid repetition size: {1001}")):
        LinearRegex("a{1001}")
