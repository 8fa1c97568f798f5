"""Conditions on a field no event carries: `msg:` for `message:` holds of nothing, silently. A condition's field
is fine when it is an Event attribute, a field an extractor fills, a name the rule's own regexes capture, or a
field one of the rule's examples carries; anything else is a warning (`logpipe rules check`; an error with
--strict), with the closest name it may have meant."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from logpipe.config.yamlfile import dotted, line_of
from logpipe.engine.conditions import PRIVATE_KEYS, captured_names
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.examples import parse_example
from logpipe.engine.layers import RuleEntry
from logpipe.engine.rules import RuleSet
from logpipe.errors import Location, RuleError

#: what conditions read besides fields (conditions.py's getters and Event.get)
ATTRIBUTES = frozenset(
    {"level", "message", "logger", "context", "parser", "time", "raw", "flags", "stream", "container",
     "container_id", "host", "source", "text"}
)  # fmt: skip
_CONDITION_KEYS = ("match", "base", "then")
_GROUPS = ("all", "any")


def field_warnings(ruleset: RuleSet) -> list[RuleError]:
    """One warning per condition on a field that nothing shows any event may carry."""
    filled = _extracted_fields(ruleset)
    warnings = []
    for entry in ruleset.entries.values():
        carried = _carried_by_examples(ruleset, entry)
        captured: frozenset[str] = frozenset()
        if entry.id in ruleset.index:
            conditions = ruleset.rule(entry.id).conditions.values()
            captured = frozenset().union(*(captured_names(condition) for condition in conditions))
        for name in _CONDITION_KEYS:
            spec = entry.raw.get(name)
            if spec is None:
                continue
            for field, path in condition_fields(spec, ()):
                if field in ATTRIBUTES or field in filled or field in captured or field in carried:
                    continue
                known = ATTRIBUTES | filled | carried
                where = entry.origins.get(name, entry.defined)
                line = line_of(spec, path) or where.line
                place = Location(where.file, line, where.path + dotted(("x", *path))[1:])
                warnings.append(
                    RuleError(
                        place,
                        f"no event carries field {field!r}: it is not an Event attribute, no extractor fills it and "
                        f"none of {entry.id}'s examples has it{did_you_mean(field, known)}",
                    )
                )
    return warnings


def condition_fields(spec: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """(field, where in the condition) for every field test in a condition as written."""
    if isinstance(spec, list):
        for index, item in enumerate(spec):
            yield from condition_fields(item, (*path, index))
        return
    if not isinstance(spec, Mapping):
        return
    for key, value in spec.items():
        if key in _GROUPS and isinstance(value, list):
            for index, item in enumerate(value):
                yield from condition_fields(item, (*path, key, index))
        elif key == "not":
            yield from condition_fields(value, (*path, key))
        else:
            yield str(key), (*path, key)


def _extracted_fields(ruleset: RuleSet) -> frozenset[str]:
    names: set[str] = set()
    for extractor in ruleset.extractors:
        names.update(target for _, target in extractor.targets)
        names.update(target for target, _ in extractor.copies)
    return frozenset(names)


def _carried_by_examples(ruleset: RuleSet, entry: RuleEntry) -> frozenset[str]:
    """Every dotted path the rule's example events carry (fields, and what extractors gave them)."""
    found: set[str] = set()
    examples = entry.model.examples
    for line in [*examples.match, *examples.no_match]:
        for event in parse_example(line):
            found.update(_paths(event.fields, ""))
            found.update(key for key in ruleset.values_for(event) if key not in PRIVATE_KEYS)
    return frozenset(found)


def _paths(fields: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, value in fields.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _paths(value, path + ".")
