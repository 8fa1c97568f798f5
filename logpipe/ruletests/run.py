"""Run rule tests: each test's lines are replayed as `logpipe replay` replays a saved `docker logs -t` output
(parsers, the engine and the incident book on event time, `pipeline.run_incidents`), and the notifications it
would print for the test's rules are compared with those expected, in order."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logpipe.config.durations import format_duration
from logpipe.engine import Engine
from logpipe.engine.rulefiles import shown_location, test_files
from logpipe.engine.rules import RuleSet
from logpipe.errors import RuleError
from logpipe.event import Origin, RawLine
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.pipeline import parse_lines, read_ahead, run_incidents
from logpipe.ruletests.format import Expected, RuleTest, read_test_file


@dataclass(frozen=True, slots=True)
class Outcome:
    test: RuleTest
    status: str  # passed | failed | skipped
    expected: tuple[str, ...] = ()  # the notifications expected, one line each
    got: tuple[str, ...] = ()  # those the replay gave, in the same words
    reason: str = ""  # why it was skipped
    seconds: float = 0.0


@dataclass(slots=True)
class Suite:
    """The rule tests of a set of sources: what ran, and the test files that could not be read."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[RuleError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def run_suite(ruleset: RuleSet, sources: Sequence[Path]) -> Suite:
    """Every test of every `*.test.yml` of the sources, against the rule set loaded from them."""
    suite = Suite(files=test_files(sources))
    known = ruleset.known_ids()
    for file in suite.files:
        tests, problems = read_test_file(file, known)
        suite.problems.extend(problems)
        suite.outcomes.extend(run_test(ruleset, test) for test in tests)
    return suite


def run_test(ruleset: RuleSet, test: RuleTest) -> Outcome:
    changed = changed_elsewhere(ruleset, test)
    if changed:
        return Outcome(test, "skipped", reason=changed)
    began = time.perf_counter()
    got = [n for n in replay(ruleset, test) if n.rule in test.rules]
    keys = [name for name in _KEYS if any(name in dict(item.fields) for item in test.expected)]
    expected_lines = [_expected_line(test, item, got[index] if index < len(got) else None, keys)
                      for index, item in enumerate(test.expected)]  # fmt: skip
    got_lines = [_got_line(test, notification, keys) for notification in got]
    status = "passed" if expected_lines == got_lines else "failed"
    elapsed = time.perf_counter() - began
    return Outcome(test, status, tuple(expected_lines), tuple(got_lines), seconds=elapsed)


def replay(ruleset: RuleSet, test: RuleTest) -> Iterator[Notification]:
    """The notifications `logpipe replay` would print for the test's lines (silenced and folded ones are not
    printed), with time running on to `until:` after them."""
    engine = Engine(ruleset)
    book = IncidentBook(ruleset)
    events = parse_lines(_raw_lines(test))
    for notification in run_incidents(read_ahead(events, engine), engine, book, quiet_until=test.until):
        if not notification.silenced and notification.folded_into is None:
            yield notification


def _raw_lines(test: RuleTest) -> Iterable[RawLine]:
    origins: dict[str, Origin] = {}
    for item in test.lines:
        origin = origins.setdefault(item.container, Origin("file", item.container))
        for text in item.text.split("\n"):  # a stack trace: its lines share the time, as Docker stamps them
            yield RawLine(text.encode(), origin, item.time)


def changed_elsewhere(ruleset: RuleSet, test: RuleTest) -> str:
    """Why a test no longer speaks for the rules it names: one is switched off, or a file outside the test's
    directory changed it (a pack's tests test the pack's settings, not the user's tuning of them)."""
    home = test.file.parent
    for rule_id in test.rules:
        entry = ruleset.entries.get(rule_id)
        if entry is None:
            continue
        if not entry.enabled:
            where = entry.origins.get("enabled", entry.defined)
            return f"{rule_id} is switched off ({shown_location(where)})"
        changes = {key: where for key, where in entry.overridden.items() if Path(where.file).parent != home}
        if changes:
            places = ", ".join(f"{key} at {shown_location(where)}" for key, where in changes.items())
            return f"{rule_id} is changed by {places}: write a test of your own for the new settings"
        if entry.replaced and Path(entry.defined.file).parent != home:
            return f"{rule_id} is replaced by {shown_location(entry.defined)}"
    return ""


_KEYS = ("count", "total", "severity", "group", "symptoms", "reason")


def _at(test: RuleTest, when: int) -> str:
    offset = when - test.start
    if offset == 0:
        return "+0s"
    return ("+" if offset > 0 else "-") + format_duration(abs(offset))


def _values(notification: Notification) -> dict[str, Any]:
    return {
        "count": notification.count,
        "total": notification.total,
        "severity": notification.severity,
        "group": dict(notification.group),
        "symptoms": {symptom.rule: symptom.count for symptom in notification.symptoms},
        "reason": notification.reason,
    }


def _words(when: str, rule: str, status: str, values: dict[str, Any], keys: list[str]) -> str:
    parts = [when, rule, status]
    for key in keys:
        value = values.get(key)
        if isinstance(value, dict):
            value = "{" + ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) + "}"
        parts.append(f"{key}={value}")
    return " ".join(parts)


def _got_line(test: RuleTest, notification: Notification, keys: list[str]) -> str:
    return _words(_at(test, notification.time), notification.rule, notification.kind, _values(notification), keys)


def _expected_line(test: RuleTest, item: Expected, got: Notification | None, keys: list[str]) -> str:
    """An expectation in the words of a notification; a setting it leaves out reads as what the notification in its
    place had (it is not compared)."""
    values = _values(got) if got is not None else {}
    values.update(dict(item.fields))
    return _words(_at(test, item.time), item.rule, item.status, values, keys)
