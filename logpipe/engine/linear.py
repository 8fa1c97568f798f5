"""Rule regexes on RE2: matching time is linear in the text's length whatever the pattern, so no rule (and no
log line) can make the engine backtrack for minutes. Python's `re` only checks the syntax and names, for the
error message, the constructs RE2 cannot run.

RE2 runs every construct except those that need backtracking: backreferences (`\\1`, `(?P=name)`), lookahead and
lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), conditionals (`(?(1)...)`), atomic groups and possessive repeats. Those
are refused at load with the construct named; a rule can nearly always say the same with two conditions
(`all:` / `not:`) instead. Differences to know: `\\d`, `\\w`, `\\s` and `\\b` are ASCII-only in RE2 (Python's are
Unicode), and `$` matches only at the very end (Python also before a final newline). `\\Z` is accepted and read
as RE2's `\\z`.
"""

from __future__ import annotations

import re
from typing import Any

import re2

_UNANCHORED: Any = re2._re2.RE2.Anchor.UNANCHORED
_ANCHOR_START: Any = re2._re2.RE2.Anchor.ANCHOR_START
_NO_MATCH = (-1, -1)

#: what Python's regex parser calls each construct RE2 refuses, as a rule author would recognise it
_BACKTRACKING_ONLY = {
    "GROUPREF": "a backreference (\\1 or (?P=name))",
    "GROUPREF_EXISTS": "a conditional group (?(name)...)",
    "ASSERT": "a lookahead or lookbehind ((?=...) or (?<=...))",
    "ASSERT_NOT": "a negative lookahead or lookbehind ((?!...) or (?<!...))",
    "ATOMIC_GROUP": "an atomic group (?>...)",
    "POSSESSIVE_REPEAT": "a possessive repeat (*+, ++, ?+)",
}


class RegexRefused(ValueError):
    """The pattern is not a valid regex, or needs a construct only a backtracking engine runs."""


class LinearRegex:
    """One compiled rule regex. `search` returns the text of each capturing group (None where a group did not
    take part), or None when the pattern does not occur."""

    __slots__ = ("_fast", "_match", "groupindex", "groups", "pattern")

    def __init__(self, pattern: str, ignore_case: bool = False) -> None:
        try:
            python = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as error:
            raise RegexRefused(f"invalid regex: {error.msg} at position {error.pos}") from None
        construct = backtracking_construct(pattern)
        if construct is not None:
            raise RegexRefused(
                f"regex uses {construct}, which needs a backtracking engine; rule regexes run on RE2 (linear time), "
                "so express it with separate conditions (all/not) instead"
            )
        options = re2.Options()
        options.log_errors = False
        options.case_sensitive = not ignore_case
        options.never_capture = python.groups == 0
        try:
            compiled = re2._re2.RE2(_for_re2(pattern).encode("utf-8", "surrogatepass"), options)
        except re2.error as error:  # pragma: no cover - the binding reports errors through ok() instead
            raise RegexRefused(f"regex not supported by RE2: {error}") from None
        if not compiled.ok():
            reason = compiled.error()
            reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
            raise RegexRefused(f"regex not supported by RE2: {reason}")
        self._match = compiled.Match
        # the same search on Python's `re`, where it is provably linear and equal to RE2's (see one_pass)
        self._fast = re.compile(pattern, re.ASCII) if not ignore_case and one_pass(pattern) else None
        self.pattern = pattern
        self.groups: int = python.groups
        self.groupindex: dict[str, int] = dict(python.groupindex)

    def search(self, text: str) -> tuple[str | None, ...] | None:
        return self._run(_UNANCHORED, text)

    def match(self, text: str) -> tuple[str | None, ...] | None:
        """Like `search`, but only at the start of the text."""
        return self._run(_ANCHOR_START, text)

    def _run(self, anchor: Any, text: str) -> tuple[str | None, ...] | None:
        fast = self._fast
        if fast is not None and text.isascii() and "\v" not in text:
            found = fast.search(text) if anchor is _UNANCHORED else fast.match(text)
            return None if found is None else found.groups()
        return self._run_re2(anchor, text)

    def _run_re2(self, anchor: Any, text: str) -> tuple[str | None, ...] | None:
        data = text.encode("utf-8", "surrogatepass")
        spans: list[tuple[int, int]] = self._match(anchor, data, 0, len(data))
        if spans[0][0] < 0:
            return None
        if len(spans) == 1:
            return ()
        if len(data) == len(text):  # ASCII (most log lines): byte offsets are character offsets, no decoding
            return tuple([None if start < 0 else text[start:end] for start, end in spans[1:]])
        return tuple(
            [None if start < 0 else data[start:end].decode("utf-8", "surrogatepass") for start, end in spans[1:]]
        )

    def groupdict(self, found: tuple[str | None, ...]) -> dict[str, str]:
        """The named groups of a `search` result that took part in the match."""
        named = {}
        for name, number in self.groupindex.items():
            value = found[number - 1]
            if value is not None:
                named[name] = value
        return named


def backtracking_construct(pattern: str) -> str | None:
    """Name the first construct in `pattern` that only a backtracking engine can run, or None."""
    try:
        from re import _parser  # type: ignore[attr-defined]  # the stdlib's regex parser, stable since 3.11

        parsed = _parser.parse(pattern)
    except Exception:  # an invalid pattern is reported by re.compile; nothing to name here
        return None
    return _walk(parsed)


def _walk(items: Any) -> str | None:
    for op, arg in items:
        name = str(op)
        if name in _BACKTRACKING_ONLY:
            return _BACKTRACKING_ONLY[name]
        children: list[Any] = []
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            children = [arg[2]]
        elif name == "SUBPATTERN":
            children = [arg[-1]]
        elif name == "BRANCH":
            children = list(arg[1])
        for child in children:
            found = _walk(child)
            if found is not None:
                return found
    return None


def _for_re2(pattern: str) -> str:
    """Python-only spellings RE2 reads differently: `\\Z` (end of text) is RE2's `\\z`."""
    return re.sub(r"(?<!\\)((?:\\\\)*)\\Z", r"\1\\z", pattern) if "\\Z" in pattern else pattern


# --- the fast lane: Python's `re` where it provably runs in linear time and answers as RE2 would ---------------
#
# RE2 costs a call through pybind11 per search: 0.72 us for the access-log extractor's pattern on a NestJS access
# line, where Python's `re` takes 0.24. A backtracking engine is only slow when it has choices to undo, so a
# pattern that (1) is anchored at the text's start (`^`: one start position, not n) and (2) is decided by the next
# character at every choice (a repeat stops where what follows it cannot start; an optional part is taken exactly
# when it can start; alternatives are fixed strings, their product bounded) runs in time linear in the text on
# `re` too. On ASCII text without a vertical tab, `re` with re.ASCII and RE2 agree on every construct allowed here
# (RE2's \s lacks \v; Unicode semantics differ only beyond ASCII), and both take the leftmost-first match, so the
# groups are the same. Anything else stays on RE2. tests/unit/engine/test_linear_fast.py compares the two.

_ASCII = frozenset(range(128))
_NEWLINE = ord("\n")
_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": frozenset(range(ord("0"), ord("9") + 1)),
    "CATEGORY_WORD": frozenset(c for c in range(128) if chr(c).isalnum() or c == ord("_")),
    "CATEGORY_SPACE": frozenset(ord(c) for c in " \t\n\r\f\v"),
}
_BRANCH_BUDGET = 64  # how many times alternatives may make the rest of a match run again, all branches together


class _NotOnePass(Exception):
    """The pattern has a construct or a choice this analysis cannot show to be linear on a backtracking engine."""


def one_pass(pattern: str) -> bool:
    """Whether `pattern` runs in linear time on Python's `re` and matches as RE2 does on ASCII text (see above)."""
    try:
        from re import _parser  # type: ignore[attr-defined]  # the stdlib's regex parser, stable since 3.11

        parsed = _parser.parse(pattern)
    except Exception:
        return False
    if parsed.state.flags & ~re.UNICODE:  # inline flags: (?i), (?m), (?s), (?x) ...
        return False
    items = list(parsed)
    if not items or items[0] != (_parser.AT, _parser.AT_BEGINNING):
        return False
    budget = [_BRANCH_BUDGET]
    try:
        _check_sequence(items[1:], frozenset(), budget)
    except _NotOnePass:
        return False
    return True


def _check_sequence(items: list[Any], follow: frozenset[int], budget: list[int]) -> None:
    """Raise _NotOnePass unless each choice in `items` is decided by the next character, given that what can come
    after `items` starts with a character in `follow` (empty: the pattern ends, nothing is left to match)."""
    for position, (op, arg) in enumerate(items):
        name = str(op)
        after = _first(items[position + 1 :], follow)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            _chars(op, arg)  # refuses a class it cannot read
        elif name == "SUBPATTERN":
            _group, add_flags, del_flags, body = arg
            if add_flags or del_flags:
                raise _NotOnePass
            _check_sequence(list(body), after, budget)
        elif name == "MAX_REPEAT":
            low, high, body = arg
            body = list(body)
            if len(body) == 1 and str(body[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                if low != high and _chars(*body[0]) & after:
                    raise _NotOnePass  # where to stop repeating is not decided by the next character
            elif low == 0 and high == 1:
                starts, empty = _first_of(body)
                if empty or starts & after:
                    raise _NotOnePass  # whether to take the optional part is not decided by the next character
                _check_sequence(body, after, budget)
            else:
                raise _NotOnePass
        elif name == "BRANCH":
            alternatives = arg[1]
            budget[0] //= len(alternatives)
            if budget[0] < 1:
                raise _NotOnePass
            for alternative in alternatives:
                if any(str(o) not in ("LITERAL", "NOT_LITERAL", "ANY", "IN") for o, _ in alternative):
                    raise _NotOnePass  # only fixed-length alternatives: no choice inside them
                _check_sequence(list(alternative), after, budget)
        else:  # lazy and possessive repeats, assertions, other anchors, backreferences
            raise _NotOnePass


def _first(items: list[Any], follow: frozenset[int]) -> frozenset[int]:
    """The characters `items` then `follow` can start with."""
    starts, empty = _first_of(items)
    return starts | follow if empty else starts


def _first_of(items: list[Any]) -> tuple[frozenset[int], bool]:
    """The characters `items` can start with, and whether they can match the empty string."""
    starts: frozenset[int] = frozenset()
    for op, arg in items:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return starts | _chars(op, arg), False
        if name == "SUBPATTERN":
            inner, empty = _first_of(list(arg[3]))
        elif name == "MAX_REPEAT":
            inner, empty = _first_of(list(arg[2]))
            empty = empty or arg[0] == 0
        elif name == "BRANCH":
            inner, empty = frozenset(), False
            for alternative in arg[1]:
                more, nothing = _first_of(list(alternative))
                inner, empty = inner | more, empty or nothing
        else:
            raise _NotOnePass
        starts = starts | inner
        if not empty:
            return starts, False
    return starts, True


def _chars(op: Any, arg: Any) -> frozenset[int]:
    """The ASCII characters one single-character item matches (re.ASCII semantics)."""
    name = str(op)
    if name == "LITERAL":
        return frozenset({arg}) & _ASCII
    if name == "NOT_LITERAL":
        return _ASCII - {arg}
    if name == "ANY":
        return _ASCII - {_NEWLINE}
    chars: frozenset[int] = frozenset()
    negate = False
    for code, value in arg:
        kind = str(code)
        if kind == "NEGATE":
            negate = True
        elif kind == "LITERAL":
            chars |= {value}
        elif kind == "RANGE":
            chars |= frozenset(range(value[0], value[1] + 1))
        elif kind == "CATEGORY":
            category = str(value)
            if category.startswith("CATEGORY_NOT_"):
                chars |= _ASCII - _CATEGORY_CHARS["CATEGORY_" + category[len("CATEGORY_NOT_") :]]
            elif category in _CATEGORY_CHARS:
                chars |= _CATEGORY_CHARS[category]
            else:
                raise _NotOnePass  # line breaks, Unicode-only categories
        else:
            raise _NotOnePass
    chars &= _ASCII
    return _ASCII - chars if negate else chars
