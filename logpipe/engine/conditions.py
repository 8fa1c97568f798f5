"""Match conditions: compiled once from a rule's YAML into small objects that test an event.

    match:                                  # a mapping: every key must hold (a list means the same)
      level: {gte: error}
      context: {in: [StripeWebhookController, PaymentsService]}
      text: {regex: 'signature .* (?P<reason>failed|mismatch)', ignore_case: true}
      any: [{res.statusCode: {gte: 500}}, {http.status: {gte: 500}}]
      not: {message: {startswith: "health"}}

A key is `all`, `any`, `not`, or a field: an Event attribute (`level`, `message`, `logger`/`context`, `stream`,
`container`, `parser`), `text` (the message and its stack trace), or a dotted path into the fields or into
what extractors and earlier regexes captured. Named regex groups are captured for grouping and templates.

Every condition can also say which text patterns it needs (`requirement`): the prefilter uses that to skip rules
whose patterns do not occur in a line, so most rules are never tried.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from logpipe.engine.linear import LinearRegex, RegexRefused
from logpipe.event import LEVEL_RANK, Event, lookup

Values = dict[str, Any]  # per event: extracted fields, `text`, and regex captures, by dotted name
_MISSING = object()
#: the key in `values` of what the prefilter's scan of the event's text saw: (patterns scanned for, patterns
#: perhaps present), by `pattern_key`. A regex condition on the text whose pattern was scanned for and is not
#: there answers "no" without running its regex: on an access line that saves the four or five regexes of rules
#: that must look at every line because another branch of their `any:` reads a field (RE2's search is the
#: dearest step per condition).
SCANNED = "\x00scanned"
#: keys of `values` that are not fields: never shown as an alert's data or captures
PRIVATE_KEYS = frozenset({"text", SCANNED})

#: fields the prefilter can scan for: both are covered by the scan text (message + stack)
TEXT_FIELDS = frozenset({"message", "text"})
OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "exists",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "startswith",
    "endswith",
    "regex",
)
_STRING_OPS = {"contains", "startswith", "endswith", "regex"}
_ORDER_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class SpecError(Exception):
    """A rule file's content is wrong at `path` (relative to what was being compiled)."""

    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem


@dataclass(frozen=True, slots=True)
class Pattern:
    """A regex the prefilter looks for in the scan text; a literal condition becomes an escaped regex."""

    regex: str
    ignore_case: bool


def pattern_key(pattern: Pattern) -> str:
    """A string naming the pattern (its hash is cached by Python: a set lookup per gated test, nothing more)."""
    return ("i\x00" if pattern.ignore_case else "c\x00") + pattern.regex


@dataclass(frozen=True, slots=True)
class AttributeIs:
    """An event attribute the prefilter looks up in an index: `logger: docker`, `level: {gte: error}`."""

    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class FieldPresent:
    """The event has a field under this first key (`payment` for `payment.outcome`), in its fields or in what the
    extractors gave it: a test that fails on a missing field (`payment.outcome: failed`, `probe.x: {exists:
    true}`) can hold of no other event. The prefilter looks the event's keys up in an index."""

    head: str


Need = Pattern | AttributeIs | FieldPresent
#: attributes whose equality conditions the prefilter indexes (cheap to read, few distinct values)
INDEXED_ATTRIBUTES = ("level", "logger", "stream", "parser")
_ATTRIBUTE_ALIASES = {"context": "logger"}


class Condition:
    """What a rule's `match` compiles to: a tree of All / Any_ / Not over FieldTests.

    A base class, not a Protocol: compiled, a call to `test` through it is a direct call through the class's
    method table, where a Protocol's was a method looked up by name on every call (each condition of every rule,
    on every event)."""

    __slots__ = ("captures", "requirement")

    #: any one of these must hold of an event (a pattern in its scan text, an attribute value) for the condition
    #: to hold; None: no such need
    requirement: frozenset[Need] | None

    #: whether testing may add regex captures to `values` (the engine copies `values` only for such rules)
    captures: bool

    def test(self, event: Event, values: Values) -> bool:
        raise NotImplementedError

    def explain(self, event: Event, values: Values) -> tuple[bool, list[str]]:
        raise NotImplementedError


Getter = Callable[[Event, Values], Any]


def field_getter(path: str) -> Getter:
    """Read a field: an Event attribute directly; else what extractors/captures put in `values`, then the
    event's fields. Specialised per path at compile time, since it runs for every condition on every event."""
    attribute = _ATTRIBUTE_ALIASES.get(path, path)
    if attribute in INDEXED_ATTRIBUTES or attribute == "message":
        return _ATTRIBUTE_READERS[attribute]
    if path == "text":
        return lambda event, values: values["text"]
    if path in ("container", "container_id", "host", "source", "time", "raw", "flags"):
        return lambda event, values: event.get(path)

    if "." not in path:

        def flat_getter(event: Event, values: Values) -> Any:
            value = values.get(path, _MISSING)
            return event.fields.get(path) if value is _MISSING else value

        return flat_getter

    head = path.split(".", 1)[0]

    def getter(event: Event, values: Values) -> Any:
        value = values.get(path, _MISSING)
        if value is not _MISSING:
            return value
        fields = event.fields
        # most events lack the field's first key: answer that without walking the path
        return lookup(fields, path) if head in fields or path in fields else None

    return getter


def read_field(direct: str, get: Getter, event: Event, values: Values) -> Any:
    """A field's value: looked up in `values` in place when `direct` names a field extractors may fill (the
    getter would look there first, through a call), else, or when no extractor filled it, by its getter."""
    if direct:
        value = values.get(direct, _MISSING)
        if value is not _MISSING:
            return value
    return get(event, values)


_ATTRIBUTE_READERS: dict[str, Getter] = {
    "level": lambda event, values: event.level,
    "logger": lambda event, values: event.logger,
    "stream": lambda event, values: event.origin.stream,
    "parser": lambda event, values: event.parser,
    "message": lambda event, values: event.message,
}


class FieldTest(Condition):
    """One operator on one field, e.g. `level: {gte: error}`."""

    __slots__ = (
        "_check", "_gate_key", "captured", "costly", "description", "direct", "field", "gate", "get", "presence",
    )  # fmt: skip

    def __init__(
        self,
        field: str,
        check: Callable[[Any, Values], bool],
        description: str,
        requirement: frozenset[Need] | None,
        captured: frozenset[str] = frozenset(),
        gate: Pattern | None = None,
        costly: bool = False,
        presence: bool = False,
    ) -> None:
        self.field, self.get, self._check = field, field_getter(field), check
        # a field extractors may fill (not an event attribute, not `text`): looked up in `values` in place, not
        # through the getter's call, which would look there first too (http.status, http.duration_ms: every
        # access line's rules)
        self.direct = field if field_head(field) is not None else ""
        #: `exists: true` on a field extractors may fill: a metric reads it from `values` without the check's call
        self.presence = presence and field_head(field) is not None
        self.description, self.requirement = description, requirement
        self.captured, self.captures = captured, bool(captured)  # the names its regex's groups capture
        self.costly = costly  # a regex search, not a comparison: `all:` tries it after the cheap tests
        #: a regex on the scan text: skipped when the prefilter's scan says its pattern is absent (see SCANNED)
        self.gate = gate
        self._gate_key = pattern_key(gate) if gate is not None else ""

    def test(self, event: Event, values: Values) -> bool:
        if self._gate_key:
            scanned = values.get(SCANNED)
            if scanned is not None:
                searched, present = scanned
                key = self._gate_key
                if key in searched and key not in present:
                    return False
        return self._check(self.read(event, values), values)

    def read(self, event: Event, values: Values) -> Any:
        """The field's value (None when the event has none)."""
        return read_field(self.direct, self.get, event, values)

    def explain(self, event: Event, values: Values) -> tuple[bool, list[str]]:
        value = self.get(event, values)
        ok = self._check(value, values)
        shown = repr(value) if not isinstance(value, str) or len(value) < 80 else repr(value[:77] + "...")
        return ok, [f"{'✓' if ok else '✗'} {self.description}  ({self.field} is {shown})"]


class OrderTest(FieldTest):
    """A numeric comparison (`http.status: {gte: 500}`), made in place: the general test calls a check that
    calls a number conversion and an operator, three calls where one comparison does."""

    __slots__ = ("_expected", "_op")

    def __init__(self, field: str, op: str, expected: float, description: str, check: Callable[[Any, Values], bool]):
        super().__init__(field, check, description, None)
        self._op = _ORDER_CODES[op]
        self._expected = expected

    def test(self, event: Event, values: Values) -> bool:
        value: Any = self.read(event, values)
        kind = type(value)
        if kind is not int and kind is not float:  # bool is neither: _number refuses it
            value = _number(value)
            if value is None:
                return False
        expected: Any = self._expected
        op = self._op
        if op == 0:
            return bool(value > expected)
        if op == 1:
            return bool(value >= expected)
        if op == 2:
            return bool(value < expected)
        return bool(value <= expected)


_ORDER_CODES = {"gt": 0, "gte": 1, "lt": 2, "lte": 3}


class All(Condition):
    __slots__ = ("_order", "children")

    def __init__(self, children: Sequence[Condition]) -> None:
        self.children = tuple(children)  # as written: what `explain` shows
        self.captures = any(child.captures for child in self.children)
        needs = [c.requirement for c in self.children if c.requirement is not None]
        # any one child's need is a need of the whole; the narrowest set filters best
        self.requirement = min(needs, key=len) if needs else None
        self._order = _cheap_first(self.children)

    def test(self, event: Event, values: Values) -> bool:
        for child in self._order:  # noqa: SIM110 - a loop beats all() over a generator on this hot path
            if not child.test(event, values):
                return False
        return True

    def explain(self, event: Event, values: Values) -> tuple[bool, list[str]]:
        return _explain_group("all of", self.children, event, values, all)


class Any_(Condition):
    __slots__ = ("children",)

    def __init__(self, children: Sequence[Condition]) -> None:
        self.children = tuple(children)
        self.captures = any(child.captures for child in self.children)
        needs = [c.requirement for c in self.children]
        self.requirement = None if any(n is None for n in needs) else frozenset().union(*needs)  # type: ignore[arg-type]

    def test(self, event: Event, values: Values) -> bool:
        for child in self.children:  # noqa: SIM110 - a loop beats any() over a generator on this hot path
            if child.test(event, values):
                return True
        return False

    def explain(self, event: Event, values: Values) -> tuple[bool, list[str]]:
        return _explain_group("any of", self.children, event, values, any)


class Not(Condition):
    __slots__ = ("child",)

    def __init__(self, child: Condition) -> None:
        self.child, self.requirement, self.captures = child, None, child.captures

    def test(self, event: Event, values: Values) -> bool:
        return not self.child.test(event, values)

    def explain(self, event: Event, values: Values) -> tuple[bool, list[str]]:
        ok, lines = self.child.explain(event, values)
        return not ok, [f"{'✓' if not ok else '✗'} not:", *("    " + line for line in lines)]


def _cheap_first(children: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """The order `all:` tests its children in: comparisons before regexes and groups, so a regex runs only on the
    events the comparisons let through (the webhook route regex of payment-webhook-5xx ran on every access line,
    its `status >= 500` after it). A comparison reading a name some sibling's regex captures keeps its place,
    after that regex; the rest keep their written order. The result is the same: the children have no effects
    but captures."""
    cheap = _cheap(children)
    return (*cheap, *(c for c in children if not any(c is other for other in cheap)))


def _cheap(children: tuple[Condition, ...]) -> list[Condition]:
    """The comparisons among an `all:`'s children that may be tried before its regexes (none reads a name a
    sibling captures)."""
    captured = {name for child in children for name in captured_names(child)}
    return [c for c in children if isinstance(c, FieldTest) and not c.costly and c.field not in captured]


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


def captured_names(condition: Condition) -> frozenset[str]:
    """The names a condition's regexes capture into `values`, anywhere inside it."""
    if isinstance(condition, FieldTest):
        return condition.captured
    if isinstance(condition, (All, Any_)):
        return frozenset().union(*(captured_names(child) for child in condition.children))
    if isinstance(condition, Not):
        return captured_names(condition.child)
    return frozenset()


def _explain_group(
    label: str, children: Sequence[Condition], event: Event, values: Values, combine: Callable[[list[bool]], bool]
) -> tuple[bool, list[str]]:
    results: list[bool] = []
    lines: list[str] = []
    for child in children:
        ok, child_lines = child.explain(event, values)
        results.append(ok)
        lines.extend("    " + line for line in child_lines)
    ok = combine(results)
    return ok, [f"{'✓' if ok else '✗'} {label}:", *lines]


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


def field_head(path: str) -> str | None:
    """The first key of a field path, None for what is not a field (event attributes, `text`)."""
    if _ATTRIBUTE_ALIASES.get(path, path) in INDEXED_ATTRIBUTES or path in _NOT_FIELDS:
        return None
    return path.split(".", 1)[0]


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


_NOT_FIELDS = frozenset({"message", "text", "container", "container_id", "host", "source", "time", "raw", "flags"})


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
    if op in _ORDER_OPS:
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
        description = f"level {_ORDER_OPS[op]} {expected}"
        levels = [name for name, other in LEVEL_RANK.items() if compare(other, rank)]
        return FieldTest(
            field,
            lambda v, _: v in LEVEL_RANK and compare(LEVEL_RANK[v], rank),
            description,
            _attribute_need("level", levels),
        )
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        raise SpecError(path, f"`{op}` compares numbers; got {expected!r}")
    description = f"{field} {_ORDER_OPS[op]} {expected}"

    def check(value: Any, _: Values) -> bool:  # what `explain` shows; OrderTest.test compares in place
        number = _number(value)
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
    attribute = _ATTRIBUTE_ALIASES.get(field, field)
    if attribute not in INDEXED_ATTRIBUTES or not all(isinstance(value, str) for value in values):
        return None
    return frozenset(AttributeIs(attribute, value) for value in values)


def _level_rank(value: Any, path: tuple[str | int, ...]) -> int:
    if value not in LEVEL_RANK:
        raise SpecError(path, f"unknown level {value!r}; expected one of {', '.join(LEVEL_RANK)}")
    return LEVEL_RANK[value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


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
