"""How rule tests went, for people (a diff of expected and got notifications per failure) and for CI systems
(JUnit XML, which GitLab, Jenkins and GitHub's test reporters read)."""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from logpipe.engine.rulefiles import shown, shown_location
from logpipe.ruletests.run import Outcome


def diff(expected: Sequence[str], got: Sequence[str]) -> list[str]:
    """Expected against got, line by line: `- ` what was expected and did not come, `+ ` what came unexpected."""
    lines = ["(- expected, + got)"]
    matcher = difflib.SequenceMatcher(a=list(expected), b=list(got), autojunk=False)
    for tag, a_from, a_to, b_from, b_to in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(f"  {line}" for line in expected[a_from:a_to])
            continue
        lines.extend(f"- {line}" for line in expected[a_from:a_to])
        lines.extend(f"+ {line}" for line in got[b_from:b_to])
    if not expected and not got:
        lines.append("  (no notifications)")
    return lines


def outcome_lines(outcome: Outcome) -> Iterator[str]:
    """`PASS file:line name`, and for a failure the diff under it (indented)."""
    test = outcome.test
    head = f"{shown_location(test.location)} {test.name}"
    if outcome.status == "passed":
        yield f"PASS {head}"
    elif outcome.status == "skipped":
        yield f"SKIP {head} ({outcome.reason})"
    else:
        yield f"FAIL {head}"
        yield from ("     " + line for line in diff(outcome.expected, outcome.got))


@dataclass(frozen=True, slots=True)
class Case:
    """One JUnit test case: a rule's inline examples, or a rule test."""

    suite: str  # a file (or "examples")
    name: str
    status: str  # passed | failed | skipped
    seconds: float = 0.0
    message: str = ""  # the failure's summary, or why it was skipped
    details: str = ""  # the failure's whole text


def case_of(outcome: Outcome) -> Case:
    test = outcome.test
    if outcome.status == "failed":
        details = "\n".join(diff(outcome.expected, outcome.got))
        return Case(shown(test.file), test.name, "failed", outcome.seconds, "notifications differ", details)
    return Case(shown(test.file), test.name, outcome.status, outcome.seconds, outcome.reason)


def write_junit(path: Path, cases: Sequence[Case], errors: Sequence[str] = ()) -> None:
    """A JUnit XML file: one <testsuite> per file, a <testcase> per rule test or rule's examples; a test file
    that could not be read is an <error> case of its own, so CI shows it."""
    root = ET.Element("testsuites", name="logpipe rules test")
    by_suite: dict[str, list[Case]] = {}
    for case in cases:
        by_suite.setdefault(case.suite, []).append(case)
    if errors:
        by_suite.setdefault("rule files", [])
    for name, members in by_suite.items():
        suite = ET.SubElement(root, "testsuite", name=name)
        for case in members:
            element = ET.SubElement(suite, "testcase", classname=name, name=case.name, time=f"{case.seconds:.3f}")
            if case.status == "failed":
                failure = ET.SubElement(element, "failure", message=case.message)
                failure.text = case.details
            elif case.status == "skipped":
                ET.SubElement(element, "skipped", message=case.message)
        if name == "rule files":
            for number, text in enumerate(errors, 1):
                element = ET.SubElement(suite, "testcase", classname=name, name=f"problem {number}", time="0.000")
                ET.SubElement(element, "error", message=text.split("\n", 1)[0]).text = text
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(sum(1 for case in members if case.status == "failed")))
        suite.set("errors", str(len(errors) if name == "rule files" else 0))
        suite.set("skipped", str(sum(1 for case in members if case.status == "skipped")))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
