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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from logpipe.event import Event, lookup

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
ORDER_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


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
ATTRIBUTE_ALIASES = {"context": "logger"}


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
    attribute = ATTRIBUTE_ALIASES.get(path, path)
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
        if kind is not int and kind is not float:  # bool is neither: number_of refuses it
            value = number_of(value)
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


def field_head(path: str) -> str | None:
    """The first key of a field path, None for what is not a field (event attributes, `text`)."""
    if ATTRIBUTE_ALIASES.get(path, path) in INDEXED_ATTRIBUTES or path in _NOT_FIELDS:
        return None
    return path.split(".", 1)[0]


def number_of(value: Any) -> float | None:
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


def _cheap(children: tuple[Condition, ...]) -> list[Condition]:
    """The comparisons among an `all:`'s children that may be tried before its regexes (none reads a name a
    sibling captures)."""
    captured = {name for child in children for name in captured_names(child)}
    return [c for c in children if isinstance(c, FieldTest) and not c.costly and c.field not in captured]


def captured_names(condition: Condition) -> frozenset[str]:
    """The names a condition's regexes capture into `values`, anywhere inside it."""
    if isinstance(condition, FieldTest):
        return condition.captured
    if isinstance(condition, (All, Any_)):
        return frozenset().union(*(captured_names(child) for child in condition.children))
    if isinstance(condition, Not):
        return captured_names(condition.child)
    return frozenset()


_NOT_FIELDS = frozenset({"message", "text", "container", "container_id", "host", "source", "time", "raw", "flags"})
