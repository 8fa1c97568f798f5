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

    __slots__ = ("_match", "groupindex", "groups", "pattern")

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
        self.pattern = pattern
        self.groups: int = python.groups
        self.groupindex: dict[str, int] = dict(python.groupindex)

    def search(self, text: str) -> tuple[str | None, ...] | None:
        return self._run(_UNANCHORED, text)

    def match(self, text: str) -> tuple[str | None, ...] | None:
        """Like `search`, but only at the start of the text."""
        return self._run(_ANCHOR_START, text)

    def _run(self, anchor: Any, text: str) -> tuple[str | None, ...] | None:
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
