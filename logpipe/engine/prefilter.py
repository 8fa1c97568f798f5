"""The prefilter: from one multi-pattern scan of an event's text and a few index lookups on its attributes, which
rules (and extractors) could match it, so the cost per line stays nearly flat as rules are added.

Measured here per line on NestJS access lines: hyperscan 0.6-0.7 µs for 30 or 200 patterns, RE2 sets 0.8-0.9 µs,
Aho-Corasick 0.75-1.0 µs (and it needs literals pulled out of the regexes), Python `re` alternation 16-119 µs.
So hyperscan where it installs; where it does not (no wheel for aarch64 or musllinux), one RE2 set: google-re2 is
what rule regexes run on anyway (engine/linear.py), so the agent needs nothing more. Both give the same alerts
(tests/unit/engine/test_prefilter_fallback.py); only the candidate lists may differ, hyperscan's being wider.
Replaying 200,000 NestJS JSON lines: the pack (41 rules) 3.8 s with hyperscan, 3.2 s with the RE2 set (no Python
callback per match); 200 rules 3.5 s against 5.5 s (bench/rules_throughput.py --child, hyperscan blocked or not).

hyperscan compiles the patterns in prefilter mode, caseless where the rule is, multi-line: it may report a line
that the rule then rejects, never the reverse. The RE2 set runs the rule's own regex (multi-line too), so it
reports exactly the lines the pattern occurs in. Attribute needs (`logger: docker`, `level >= error`) are dict
lookups. A client whose conditions need neither is a candidate for every event.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

import re2

from logpipe.engine.conditions import FieldPresent, Need, Pattern, pattern_key
from logpipe.engine.linear import _for_re2
from logpipe.event import Event

try:
    import hyperscan as _hyperscan

    hyperscan: Any = _hyperscan
except ImportError:  # no wheel for this platform (or installed without it): the RE2 set below
    hyperscan = None

#: whether the prefilter scans with hyperscan (else one RE2 set); `logpipe doctor` and the tests read it
HYPERSCAN_AVAILABLE = hyperscan is not None

_READ_ATTRIBUTE: dict[str, Callable[[Event], str]] = {
    "level": lambda event: event.level,
    "logger": lambda event: event.logger,
    "stream": lambda event: event.origin.stream,
    "parser": lambda event: event.parser,
}
# an RE2 set's DFA is built lazily in this budget; the default (8 MiB) is near its limit for a few hundred rules
_RE2_SET_MEMORY = 256 << 20


class Prefilter:
    def __init__(
        self,
        requirements: Sequence[frozenset[Need] | None],
        use_hyperscan: bool = HYPERSCAN_AVAILABLE,
        gated: Sequence[Pattern] = (),
    ) -> None:
        """`requirements[i]`: the needs any one of which client i has, or None (a candidate for every event).
        `gated`: patterns scanned for only so conditions can skip their regex (conditions.SCANNED), e.g. the text
        branch of an `any:` whose other branch reads a field.
        `use_hyperscan=False` scans with an RE2 set even where hyperscan is installed (the tests compare both)."""
        always = {i for i, need in enumerate(requirements) if need is None}
        self.unfiltered: list[int] = []  # clients with a pattern the scanner refused: candidates for every event
        patterns: dict[Pattern, list[int]] = {}
        by_attribute: dict[str, dict[str, list[int]]] = {}
        by_head: dict[str, list[int]] = {}
        for client, needs in enumerate(requirements):
            for need in needs or ():
                if isinstance(need, Pattern):
                    patterns.setdefault(need, []).append(client)
                elif isinstance(need, FieldPresent):
                    by_head.setdefault(need.head, []).append(client)
                else:
                    by_attribute.setdefault(need.attribute, {}).setdefault(need.value, []).append(client)
        #: first key of a field -> the clients that need a field under it
        self.by_head = {head: tuple(clients) for head, clients in by_head.items()}
        for pattern in gated:
            patterns.setdefault(pattern, [])
        self._owners = [tuple(owners) for owners in patterns.values()]
        self._keys = [pattern_key(pattern) for pattern in patterns]
        self._scanner: HyperscanPatterns | Re2Patterns | None = None
        # what a scan tells conditions: the patterns it looks for (a refused one is not looked for: its
        # conditions run their regex), and on a line where it finds none of them, that nothing is present
        self._searched: frozenset[str] = frozenset()
        self._nothing: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        if patterns:
            self._scanner = HyperscanPatterns(list(patterns)) if use_hyperscan else Re2Patterns(list(patterns))
            for index in self._scanner.refused:
                self.unfiltered.extend(self._owners[index])
            refused = set(self._scanner.refused)
            self._searched = frozenset(key for index, key in enumerate(self._keys) if index not in refused)
            self._nothing = (self._searched, frozenset())
        self._attributes = tuple(
            (_READ_ATTRIBUTE[name], {value: tuple(clients) for value, clients in index.items()})
            for name, index in by_attribute.items()
        )
        self.always = tuple(sorted(always | set(self.unfiltered)))

    @property
    def scanner(self) -> str:
        """What scans the patterns: "hyperscan", "re2" or "none" (no client has a pattern)."""
        return "none" if self._scanner is None else self._scanner.name

    def candidates(self, event: Event, text: str) -> Sequence[int]:
        """The clients to try on an event whose scan text (message and stack) is `text`, in client order."""
        return self.scan(event, text)[0]

    def scan_texts(self, texts: Sequence[str]) -> list[Sequence[int]] | None:
        """The patterns found in each text, for `scan(..., found=)`, in one scan of them all; None: no scanner."""
        return self._scanner.scan_many(texts) if self._scanner is not None else None

    def scan(
        self, event: Event, text: str, found: Sequence[int] | None = None
    ) -> tuple[Sequence[int], tuple[frozenset[str], frozenset[str]] | None]:
        """`candidates`, and what the scan saw for conditions (the value of conditions.SCANNED; None: no scan).
        `found`: the patterns `scan_texts` found in `text`, when it was scanned with others ahead of time."""
        hits: list[int] = []
        seen: tuple[frozenset[str], frozenset[str]] | None = None
        if self._scanner is not None:
            if found is None:
                found = self._scanner.scan(text.encode("utf-8", "surrogatepass"))
            if found:
                owners, keys = self._owners, self._keys
                for pattern in found:
                    hits.extend(owners[pattern])
                seen = (self._searched, frozenset([keys[pattern] for pattern in found]))
            else:
                seen = self._nothing
        for read, index in self._attributes:
            clients = index.get(read(event))
            if clients:
                hits.extend(clients)
        by_head = self.by_head
        if by_head:
            for key in event.fields:
                clients = by_head.get(key if "." not in key else key.split(".", 1)[0])
                if clients:
                    hits.extend(clients)
        if not hits:
            return self.always, seen
        return sorted({*self.always, *hits}), seen


class HyperscanPatterns:
    """All patterns in one hyperscan database; `scan` gives the indexes of those found in a text."""

    name = "hyperscan"

    def __init__(self, patterns: list[Pattern]) -> None:
        self._patterns = patterns
        self.refused: list[int] = []
        self._database = self._compile()
        self._scratch = hyperscan.Scratch(self._database) if self._database is not None else None
        self._found: set[int] = set()

    def _compile(self) -> Any:
        accepted = list(range(len(self._patterns)))
        try:  # all at once first: compiling each alone as well doubled the start-up (about 1 s for the pack)
            return self._build(accepted)
        except hyperscan.error:
            pass
        accepted = []
        for index, pattern in enumerate(self._patterns):  # find the ones hyperscan refuses, to try those always
            try:
                hyperscan.Database().compile(
                    expressions=[pattern.regex.encode()], ids=[index], flags=[self._flags(pattern)]
                )
                accepted.append(index)
            except hyperscan.error:
                self.refused.append(index)
        return self._build(accepted) if accepted else None

    def _build(self, accepted: list[int]) -> Any:
        database = hyperscan.Database()
        database.compile(
            expressions=[self._patterns[i].regex.encode() for i in accepted],
            ids=accepted,
            elements=len(accepted),
            flags=[self._flags(self._patterns[i]) for i in accepted],
        )
        return database

    @staticmethod
    def _flags(pattern: Pattern) -> int:
        # every match is reported (no SINGLEMATCH), so one scan over many texts finds a pattern in each text it is
        # in; a pattern that can match the empty string is refused (it would match at every byte) and its clients
        # are then tried on every line, as a pattern found everywhere would be
        flags = (
            hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP
        )
        return int(flags | (hyperscan.HS_FLAG_CASELESS if pattern.ignore_case else 0))

    def scan(self, data: bytes) -> Sequence[int]:
        if self._database is None:
            return ()
        found = self._found
        found.clear()
        self._database.scan(data, match_event_handler=self._on_match, scratch=self._scratch)
        return list(found)

    def _on_match(self, pattern: int, start: int, end: int, flags: int, context: object) -> None:
        self._found.add(pattern)

    def scan_many(self, texts: Sequence[str]) -> list[Sequence[int]]:
        """`scan` of each text, from one scan of them all joined by newlines: hyperscan's per-call cost (0.8 us
        of the 0.9 a NestJS access line paid) is paid once per batch. A match is given to the text its last byte
        is in (a newline joining two texts to the text before it). The patterns are multi-line, so `^` and `$`
        hold at the joins as at a text's ends; a match spanning a join can only add a pattern to a text, never
        take one away, and the prefilter only ever over-reports."""
        if self._database is None or not texts:
            return [() for _ in texts]
        joined = "\n".join(texts)
        data = joined.encode("utf-8", "surrogatepass")
        joins: list[int] = []  # the byte offset of the newline after each text (the last: one past the end)
        at = -1
        if len(data) == len(joined):  # ASCII (most log lines): byte and character offsets agree
            for text in texts:
                at += len(text) + 1
                joins.append(at)
        else:
            for text in texts:
                at += len(text.encode("utf-8", "surrogatepass")) + 1
                joins.append(at)
        found: dict[int, set[int]] = {}

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            index = bisect_left(joins, end - 1)
            patterns = found.get(index)
            if patterns is None:
                found[index] = {pattern}
            else:
                patterns.add(pattern)

        self._database.scan(data, match_event_handler=on_match, scratch=self._scratch)
        result: list[Sequence[int]] = [()] * len(texts)
        for index, patterns in found.items():
            result[index] = list(patterns)
        return result


class Re2Patterns:
    """All patterns in one RE2 set (one pass, linear time); `scan` gives the indexes of those found in a text."""

    name = "re2"

    def __init__(self, patterns: list[Pattern]) -> None:
        options = re2.Options()
        options.log_errors = False
        options.never_capture = True
        options.max_mem = _RE2_SET_MEMORY
        self._set: Any = re2.Set.SearchSet(options)
        self._indexes: list[int] = []  # the set numbers what it accepted 0, 1, ...: which pattern each is
        self.refused: list[int] = []
        for index, pattern in enumerate(patterns):
            flags = "(?mi)" if pattern.ignore_case else "(?m)"
            try:
                self._set.Add(flags + _for_re2(pattern.regex))
            except re2.error:
                self.refused.append(index)
                continue
            self._indexes.append(index)
        self._set.Compile()

    def scan(self, data: bytes) -> Sequence[int]:
        found: list[int] | None = self._set.Match(data)
        if not found:
            return ()
        indexes = self._indexes
        return [indexes[number] for number in found]

    def scan_many(self, texts: Sequence[str]) -> list[Sequence[int]]:
        """`scan` of each text: an RE2 set has no per-call cost worth batching."""
        return [self.scan(text.encode("utf-8", "surrogatepass")) for text in texts]
