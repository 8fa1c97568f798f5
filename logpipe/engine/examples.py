"""Run each rule's inline examples: every `match` line must match (and get past the prefilter), every `no_match`
line must not. Rule files carry their own tests, as Vector's config files do; a rule without examples does not
load at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from logpipe.engine.conditions import Values
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.rules import RuleSet
from logpipe.event import Event, Origin, RawLine
from logpipe.parsers import Assembler

EXAMPLE_ORIGIN = Origin("example", "example")
ARRIVAL = 0


@dataclass(frozen=True, slots=True)
class ExampleResult:
    rule: str
    expectation: str  # "match" or "no_match"
    number: int  # 1-based, within its list
    line: str
    passed: bool
    problem: str = ""


def parse_example(text: str, arrival: int = ARRIVAL) -> list[Event]:
    """An example is one log event as printed: several lines when it has a stack trace."""
    assembler = Assembler()
    events = [
        event for line in text.split("\n") for event in assembler.feed(RawLine(line.encode(), EXAMPLE_ORIGIN), arrival)
    ]
    return events + assembler.flush()


def holds(ruleset: RuleSet, index: int, event: Event, values: Values) -> bool:
    """Whether the rule's `match` holds on the event as the engine would see it: past the prefilter, and for a
    ratio rule among its base events."""
    rule = ruleset.rules[index]
    if index not in ruleset.candidates(event):
        return False
    base = rule.conditions.get("base")
    if base is not None and not base.test(event, dict(values)):
        return False
    return rule.match.test(event, dict(values))


def run_examples(ruleset: RuleSet) -> Iterator[ExampleResult]:
    for index, rule in enumerate(ruleset.rules):
        yield from _rule_examples(ruleset, index, rule)


def _rule_examples(ruleset: RuleSet, index: int, rule: CompiledRule) -> Iterator[ExampleResult]:
    examples = rule.info.model.examples
    for expectation, lines in (("match", examples.match), ("no_match", examples.no_match)):
        for number, line in enumerate(lines, 1):
            events = parse_example(line)
            if len(events) != 1:
                yield ExampleResult(
                    rule.info.id, expectation, number, line, False, f"parses into {len(events)} events, not one"
                )
                continue
            event = events[0]
            matched = holds(ruleset, index, event, ruleset.values_for(event))
            wanted = expectation == "match"
            problem = "" if matched == wanted else ("did not match" if wanted else "matched")
            yield ExampleResult(rule.info.id, expectation, number, line, matched == wanted, problem)
