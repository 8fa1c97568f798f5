"""Condition specs compiled: a rule's `match:` (and `base:`, `then:`) as Condition trees, and what a tree needs of
an event before it can hold (the prefilter's patterns, attributes and fields), and its part that holds before its
captures."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from logpipe.engine.conditions import (
    ATTRIBUTE_ALIASES,
    INDEXED_ATTRIBUTES,
    OPERATORS,
    ORDER_OPS,
    TEXT_FIELDS,
    All,
    Any_,
    AttributeIs,
    Condition,
    FieldPresent,
    FieldTest,
    Need,
    Not,
    OrderTest,
    Pattern,
    SpecError,
    Values,
    captured_names,
    field_head,
    number_of,
)
from logpipe.engine.linear import LinearRegex, RegexRefused
from logpipe.event import LEVEL_RANK


def cheap_part(condition: Condition) -> Condition | None:
    """A test that is false whenever `condition` is and writes nothing into the values: what of it runs the same
    before its regexes capture (no capturing regex, no read of a captured name). A capturing rule is tried on it
    first, on the shared values, and gets its own copy of them only when it passes. None: nothing to try first."""
    return _before_captures(condition, captured_names(condition))


def _before_captures(condition: Condition, captured: frozenset[str]) -> Condition | None:
    if isinstance(condition, FieldTest):
        return None if condition.captures or condition.field in captured else condition
    if isinstance(condition, All):  # false when any part is
        parts = [p for p in (_before_captures(child, captured) for child in condition.children) if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else All(parts)
    if isinstance(condition, Any_):  # false only when every branch is: each needs a part of its own
        branches = [_before_captures(child, captured) for child in condition.children]
        if any(branch is None for branch in branches):
            return None
        return Any_([branch for branch in branches if branch is not None])
    return None  # Not: its child's part says nothing of it


def need_of(condition: Condition, captured: frozenset[str]) -> frozenset[Need] | None:
    """The condition's requirement when `captured` names may be in `values` without being fields (its rule's
    regexes capture them): a presence need on such a name is no need. Composed as All and Any_ compose theirs."""
    if not captured:
        return condition.requirement
    if isinstance(condition, FieldTest):
        requirement = condition.requirement
        if requirement and any(isinstance(n, FieldPresent) and n.head in captured for n in requirement):
            return None
        return requirement
    if isinstance(condition, All):
        needs = [need for need in (need_of(child, captured) for child in condition.children) if need is not None]
        return min(needs, key=len) if needs else None
    if isinstance(condition, Any_):
        each = [need_of(child, captured) for child in condition.children]
        return None if any(need is None for need in each) else frozenset().union(*each)  # type: ignore[arg-type]
    return condition.requirement  # Not: None


# --- compiling ---------------------------------------------------------------------------------------------------
def compile_condition(spec: Any, path: tuple[str | int, ...] = ()) -> Condition:
    if isinstance(spec, list):
        if not spec:
            raise SpecError(path, "an empty list matches nothing; give at least one condition")
        return _all([compile_condition(item, (*path, index)) for index, item in enumerate(spec)])
    if not isinstance(spec, dict) or not spec:
        raise SpecError(path, "expected a mapping of field: condition (or all/any/not), e.g. {level: {gte: error}}")
    parts: list[Condition] = []
    for key, value in spec.items():
        here = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise SpecError(here, f"`{key}` takes a non-empty list of conditions")
            children = [compile_condition(item, (*here, index)) for index, item in enumerate(value)]
            parts.append(_all(children) if key == "all" else Any_(children))
        elif key == "not":
            parts.append(Not(compile_condition(value, here)))
        else:
            parts.extend(_compile_field(key, value, here))
    return _all(parts)


def _all(parts: list[Condition]) -> Condition:
    return parts[0] if len(parts) == 1 else All(parts)


def _compile_field(field: str, spec: Any, path: tuple[str | int, ...]) -> list[Condition]:
    if not field or field != field.strip():
        raise SpecError(path, f"invalid field name {field!r}")
    if isinstance(spec, list):
        raise SpecError(path, f"a list needs an operator: {{in: {spec!r}}}")
    if not isinstance(spec, dict):
        return [_compile_op(field, "eq", spec, False, path)]
    ignore_case = spec.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise SpecError((*path, "ignore_case"), "expected true or false")
    ops = [key for key in spec if key != "ignore_case"]
    if not ops:
        raise SpecError(path, f"no operator; expected one of {', '.join(OPERATORS)}")
    return [_compile_op(field, op, spec[op], ignore_case, (*path, op)) for op in ops]


def _compile_op(field: str, op: str, expected: Any, ignore_case: bool, path: tuple[str | int, ...]) -> Condition:
    condition = _compile_test(field, op, expected, ignore_case, path)
    if condition.requirement is None and isinstance(condition, FieldTest) and _fails_when_missing(op, expected):
        head = field_head(field)
        if head is not None:
            condition.requirement = frozenset({FieldPresent(head)})
    return condition


def _fails_when_missing(op: str, expected: Any) -> bool:
    """Whether the test is false for a missing field (its value None)."""
    if op in ("ne", "not_in"):
        return False
    if op == "exists":
        return expected is True
    if op == "eq":
        return expected is not None
    if op == "in":
        return isinstance(expected, list) and None not in expected
    return True  # order, string and regex tests are false on None


def _compile_test(field: str, op: str, expected: Any, ignore_case: bool, path: tuple[str | int, ...]) -> Condition:
    if op not in OPERATORS:
        raise SpecError(path, f"unknown operator {op!r}; expected one of {', '.join(OPERATORS)}")
    is_level = field == "level"
    fold: Callable[[Any], Any] = (lambda v: v.casefold() if isinstance(v, str) else v) if ignore_case else (lambda v: v)
    requirement: frozenset[Need] | None = None
    description = f"{field} {op} {expected!r}" + (" (ignoring case)" if ignore_case else "")

    if op in ("eq", "ne"):
        if isinstance(expected, (dict, list)):
            raise SpecError(path, f"`{op}` compares with one value (use `in` for a list)")
        if is_level:
            _level_rank(expected, path)
        want = fold(expected)
        if op == "eq":
            if field in TEXT_FIELDS and isinstance(expected, str):
                requirement = frozenset({Pattern("^" + re.escape(expected) + "$", ignore_case)})
            elif not ignore_case:
                requirement = _attribute_need(field, [expected])
            return FieldTest(field, lambda v, _: fold(v) == want, description, requirement)
        return FieldTest(field, lambda v, _: fold(v) != want, description, None)
    if op in ("in", "not_in"):
        if not isinstance(expected, list) or not expected:
            raise SpecError(path, f"`{op}` takes a non-empty list of values")
        choices = frozenset(fold(item) for item in expected if not isinstance(item, (dict, list)))
        if op == "in":
            need = None if ignore_case else _attribute_need(field, expected)
            return FieldTest(field, lambda v, _: _hashable(fold(v)) in choices, description, need)
        return FieldTest(field, lambda v, _: _hashable(fold(v)) not in choices, description, None)
    if op == "exists":
        if not isinstance(expected, bool):
            raise SpecError(path, "`exists` takes true or false")
        return FieldTest(field, lambda v, _: (v is not None) is expected, description, None, presence=expected is True)
    if op in ORDER_OPS:
        return _compile_order(field, op, expected, is_level, description, path)
    if not isinstance(expected, str) or not expected:
        raise SpecError(path, f"`{op}` takes a non-empty string")
    if op == "regex":
        return _compile_regex(field, expected, ignore_case, description, path)
    want = fold(expected)
    literal = re.escape(expected)
    anchored = {"contains": literal, "startswith": "^" + literal, "endswith": literal + "$"}[op]
    if field in TEXT_FIELDS:
        requirement = frozenset({Pattern(anchored if field == "message" else literal, ignore_case)})
    method = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[op]

    def check(value: Any, _: Values) -> bool:
        if value is None:
            return False
        text = value if isinstance(value, str) else str(value)
        return bool(method(fold(text), want))

    return FieldTest(field, check, description, requirement)


def _compile_order(
    field: str, op: str, expected: Any, is_level: bool, description: str, path: tuple[str | int, ...]
) -> Condition:
    compare: Callable[[float, float], bool] = {
        "gt": operator.gt,
        "gte": operator.ge,
        "lt": operator.lt,
        "lte": operator.le,
    }[op]
    if is_level:
        rank = _level_rank(expected, path)
        description = f"level {ORDER_OPS[op]} {expected}"
        levels = [name for name, other in LEVEL_RANK.items() if compare(other, rank)]
        return FieldTest(
            field,
            lambda v, _: v in LEVEL_RANK and compare(LEVEL_RANK[v], rank),
            description,
            _attribute_need("level", levels),
        )
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        raise SpecError(path, f"`{op}` compares numbers; got {expected!r}")
    description = f"{field} {ORDER_OPS[op]} {expected}"

    def check(value: Any, _: Values) -> bool:  # what `explain` shows; OrderTest.test compares in place
        number = number_of(value)
        return number is not None and compare(number, expected)

    return OrderTest(field, op, expected, description, check)


def _compile_regex(
    field: str, pattern: str, ignore_case: bool, description: str, path: tuple[str | int, ...]
) -> Condition:
    try:
        compiled = LinearRegex(pattern, ignore_case)
    except RegexRefused as refused:
        raise SpecError(path, str(refused)) from None
    search = compiled.search
    named = tuple((name, number - 1) for name, number in compiled.groupindex.items())

    def check(value: Any, values: Values) -> bool:
        if value is None:
            return False
        found = search(value if isinstance(value, str) else str(value))
        if found is None:
            return False
        for name, index in named:
            captured = found[index]
            if captured is not None:
                values[name] = _typed(captured)
        return True

    gate = Pattern(pattern, ignore_case) if field in TEXT_FIELDS else None
    requirement = frozenset({gate}) if gate is not None else None
    captured = frozenset(name for name, _ in named)
    return FieldTest(field, check, description, requirement, captured=captured, gate=gate, costly=True)


def gated_patterns(condition: Condition) -> list[Pattern]:
    """The patterns of the regex tests on the scan text anywhere in a condition (inside `any:` and `not:` too):
    what the prefilter must scan for so that each can be skipped on a line without it."""
    if isinstance(condition, FieldTest):
        return [condition.gate] if condition.gate is not None else []
    if isinstance(condition, (All, Any_)):
        return [pattern for child in condition.children for pattern in gated_patterns(child)]
    if isinstance(condition, Not):
        return gated_patterns(condition.child)
    return []


def _attribute_need(field: str, values: Sequence[Any]) -> frozenset[Need] | None:
    attribute = ATTRIBUTE_ALIASES.get(field, field)
    if attribute not in INDEXED_ATTRIBUTES or not all(isinstance(value, str) for value in values):
        return None
    return frozenset(AttributeIs(attribute, value) for value in values)


def _level_rank(value: Any, path: tuple[str | int, ...]) -> int:
    if value not in LEVEL_RANK:
        raise SpecError(path, f"unknown level {value!r}; expected one of {', '.join(LEVEL_RANK)}")
    return LEVEL_RANK[value]


def _typed(text: str) -> Any:
    """Captured text as a number when it is one, so `{gte: 500}` and percentiles work on captures."""
    if text.isdigit() and len(text) < 16:
        return int(text)
    try:
        return float(text) if text[:1].isdigit() and "." in text else text
    except ValueError:
        return text


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, (dict, list)) else None
