"""The rule-test file format, read with the line of every value so each mistake is reported as file:line: field.

tests:
  - name: three refund failures in five minutes page once
    start: 2026-11-27T09:00:00Z            # the time `+...` offsets count from (default 2026-01-01T00:00Z)
    input:                                  # log lines as a container printed them, at these times
      - {at: +0s, line: '[Nest] 1  - ... ERROR [RefundsService] Refund failed: re_1'}
      - {at: +1m, line: '...', repeat: 2, every: 30s}        # at +1m and +1m30s
    until: +20m                             # then time runs on, quiet, to here (as a follower's clock)
    expect:                                 # every notification of the rules named here, in time order
      - {at: +1m30s, rule: refund-failed-burst, status: firing, count: 3, total: 3}
      - {at: +11m30s, rule: refund-failed-burst, status: resolved, count: 0, total: 3}
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from logpipe.config.durations import parse_duration
from logpipe.config.fields import Duration
from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.schema import Severity
from logpipe.errors import Location, RuleError
from logpipe.times import parse_iso8601

DEFAULT_START = "2026-01-01T00:00:00Z"
_ZERO = re.compile(r"0+(?:\.0+)?(?:ms|s|m|h|d)?")
_PART = re.compile(r"\d+(?:\.\d+)?(?:ms|s|m|h|d)")
_OFFSET = re.compile(rf"(?:{_PART.pattern})+")
DEFAULT_CONTAINER = "app"
Status = Literal["firing", "update", "resolved", "flapping", "reminder"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Time = str | dt.datetime  # `+30s`, or an ISO time (YAML reads an unquoted one as a datetime)


class InputModel(_Strict):
    at: Time = Field(description="+30s (after `start`) or an ISO 8601 time")
    line: str = Field(description="the log line as printed (several lines: one event with its stack trace)")
    repeat: int = Field(1, ge=1, le=100_000, description="the line this many times, `every` apart")
    every: Duration | None = None
    container: str | None = Field(None, description="the container that printed it (default: the test's)")


class ExpectModel(_Strict):
    at: Time
    rule: str
    status: Status
    count: int | None = None
    total: int | None = None
    severity: Severity | None = None
    group: dict[str, str] | None = None
    symptoms: dict[str, int] | None = Field(None, description="rule -> matches folded into this notification")
    reason: str | None = None


class TestModel(_Strict):
    name: str = Field(min_length=1)
    start: Time = DEFAULT_START
    container: str = DEFAULT_CONTAINER
    rules: list[str] = Field([], description="whose notifications are compared (default: the rules `expect` names)")
    input: list[InputModel] = Field(min_length=1)
    until: Time | None = None
    expect: list[ExpectModel] = []


class TestFileModel(_Strict):
    lines: dict[str, str] = Field({}, description="lines used often, under anchors: `ok: &ok '...'`, `line: *ok`")
    tests: list[TestModel] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class InputLine:
    time: int  # ns since epoch
    text: str
    container: str
    line: int | None  # in the test file


@dataclass(frozen=True, slots=True)
class Expected:
    time: int
    rule: str
    status: str
    fields: tuple[tuple[str, Any], ...]  # the other settings given: (name, value), compared when given
    line: int | None


@dataclass(frozen=True, slots=True)
class RuleTest:
    file: Path
    line: int | None
    name: str
    start: int
    rules: tuple[str, ...]  # whose notifications are compared
    lines: tuple[InputLine, ...]
    until: int | None
    expected: tuple[Expected, ...]

    @property
    def location(self) -> Location:
        return Location(str(self.file), self.line)


def read_test_file(file: Path, known_rules: list[str]) -> tuple[list[RuleTest], list[RuleError]]:
    """The tests of one file and every problem in it (file:line: field: what is wrong)."""
    try:
        document = load_yaml(file)
    except RuleError as error:
        return [], [error]
    try:
        parsed = TestFileModel.model_validate(document)
    except ValidationError as invalid:
        return [], [_problem(file, document, invalid_loc, message) for invalid_loc, message in _explained(invalid)]
    problems: list[RuleError] = []
    tests = []
    for index, model in enumerate(parsed.tests):
        here: tuple[str | int, ...] = ("tests", index)
        try:
            tests.append(_test(file, document, here, model, known_rules))
        except _Wrong as wrong:
            problems.extend(_problem(file, document, loc, message) for loc, message in wrong.problems)
    return tests, problems


class _Wrong(Exception):
    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems


def _test(file: Path, document: Any, here: tuple[str | int, ...], model: TestModel, known: list[str]) -> RuleTest:
    wrong: list[tuple[tuple[str | int, ...], str]] = []
    start = _absolute(model.start)
    if start is None:
        wrong.append(((*here, "start"), f"expected an ISO 8601 time like {DEFAULT_START}, got {model.start!r}"))
        start = _absolute(DEFAULT_START) or 0

    def when(value: Time, loc: tuple[str | int, ...]) -> int:
        found = _time(value, start)
        if found is None:
            wrong.append((loc, f"expected +30s (after start) or an ISO 8601 time, got {value!r}"))
            return start
        return found

    lines = []
    for number, item in enumerate(model.input):
        loc = (*here, "input", number)
        first = when(item.at, (*loc, "at"))
        if item.repeat > 1 and item.every is None:
            wrong.append(((*loc, "repeat"), "`repeat` needs `every` (how far apart the lines are, e.g. 10s)"))
        line = line_of(document, loc)
        for copy in range(item.repeat):
            at = first + copy * (item.every or 0)
            lines.append(InputLine(at, item.line, item.container or model.container, line))
    expected = []
    for number, wanted in enumerate(model.expect):
        loc = (*here, "expect", number)
        if wanted.rule not in known:
            wrong.append(((*loc, "rule"), f"no rule {wanted.rule!r}{did_you_mean(wanted.rule, known)}"))
        others = tuple(
            (name, getattr(wanted, name))
            for name in ("count", "total", "severity", "group", "symptoms", "reason")
            if getattr(wanted, name) is not None
        )
        at = when(wanted.at, (*loc, "at"))
        expected.append(Expected(at, wanted.rule, wanted.status, others, line_of(document, loc)))
    for number, rule in enumerate(model.rules):
        if rule not in known:
            wrong.append(((*here, "rules", number), f"no rule {rule!r}{did_you_mean(rule, known)}"))
    compared = tuple(model.rules) or tuple(dict.fromkeys(item.rule for item in model.expect))
    if not compared:
        wrong.append((here, "nothing to compare: name the rules that must stay quiet under `rules:`, or `expect` some"))
    until = when(model.until, (*here, "until")) if model.until is not None else None
    if wrong:
        raise _Wrong(wrong)
    lines.sort(key=lambda item: item.time)  # a replay's lines are in time order
    return RuleTest(file, line_of(document, here), model.name, start, compared, tuple(lines), until, tuple(expected))


def _absolute(value: Time) -> int | None:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return int(aware.timestamp()) * 1_000_000_000 + aware.microsecond * 1000
    return parse_iso8601(value) if isinstance(value, str) else None


def _time(value: Time, start: int) -> int | None:
    if isinstance(value, str) and value.startswith(("+", "-")):
        rest = value[1:]
        if _ZERO.fullmatch(rest):
            offset = 0
        elif _OFFSET.fullmatch(rest):  # `5m50s`, as failures print offsets: the parts add up
            offset = sum(parse_duration(part) for part in _PART.findall(rest))
        else:
            return None
        return start + offset if value.startswith("+") else start - offset
    return _absolute(value)


def _explained(invalid: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    known = {name for model in (TestFileModel, TestModel, InputModel, ExpectModel) for name in model.model_fields}
    found = []
    for problem in invalid.errors():
        loc = tuple(part for part in problem["loc"] if isinstance(part, (str, int)))
        # a union's member names (`str`, `datetime`) are not keys in the file
        loc = tuple(part for part in loc if part not in ("str", "datetime"))
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), known)}"
        elif problem["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing"
        found.append((loc, message))
    return list(dict.fromkeys(found))


def _problem(file: Path, document: Any, loc: tuple[str | int, ...], message: str) -> RuleError:
    return RuleError(Location(str(file), line_of(document, loc), dotted(loc)), message)
