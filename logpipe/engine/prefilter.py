"""The prefilter: one hyperscan scan of an event's text tells which rules could match it, so the cost per line
stays nearly flat as rules are added. Measured here per line on NestJS access lines (bench/prefilter.py):
hyperscan 0.6-0.7 µs for 30 or 200 patterns, RE2 sets 0.8-0.9 µs, Aho-Corasick 0.75-1.0 µs (and it needs
literals pulled out of the regexes), Python `re` alternation 16-119 µs.

Patterns are compiled in prefilter mode, caseless where the rule is, multi-line: hyperscan may report a line that
the rule then rejects, never the reverse. A rule whose conditions need no text pattern (level, status codes) is
a candidate for every event.
"""

from __future__ import annotations

from collections.abc import Sequence

import hyperscan

from logpipe.engine.conditions import Pattern


class Prefilter:
    def __init__(self, requirements: Sequence[frozenset[Pattern] | None]) -> None:
        """`requirements[i]`: the patterns any one of which rule i needs in the text, or None."""
        self.always = tuple(i for i, need in enumerate(requirements) if need is None)
        self.unfiltered: list[int] = []  # rules whose patterns hyperscan could not take: tried on every event
        patterns: dict[Pattern, int] = {}
        self._rules_of: list[tuple[int, ...]] = []
        owners: dict[int, list[int]] = {}
        for rule, need in enumerate(requirements):
            for pattern in need or ():
                index = patterns.setdefault(pattern, len(patterns))
                owners.setdefault(index, []).append(rule)
        self._rules_of = [tuple(owners[i]) for i in range(len(patterns))]
        self._database = self._compile(list(patterns)) if patterns else None
        self._always_sorted = tuple(sorted({*self.always, *self.unfiltered}))
        self._scratch = hyperscan.Scratch(self._database) if self._database is not None else None
        self._found: set[int] = set()

    def _compile(self, patterns: list[Pattern]) -> hyperscan.Database | None:
        base = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_MULTILINE
        base |= hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP | hyperscan.HS_FLAG_ALLOWEMPTY
        accepted: list[int] = []
        for index, pattern in enumerate(patterns):  # find the ones hyperscan refuses, to try those everywhere
            try:
                probe = hyperscan.Database()
                probe.compile(
                    expressions=[pattern.regex.encode()],
                    ids=[index],
                    flags=[base | (hyperscan.HS_FLAG_CASELESS if pattern.ignore_case else 0)],
                )
                accepted.append(index)
            except hyperscan.error:
                self.unfiltered.extend(self._rules_of[index])
        if not accepted:
            return None
        database = hyperscan.Database()
        database.compile(
            expressions=[patterns[i].regex.encode() for i in accepted],
            ids=accepted,
            elements=len(accepted),
            flags=[base | (hyperscan.HS_FLAG_CASELESS if patterns[i].ignore_case else 0) for i in accepted],
        )
        return database

    def candidates(self, text: str) -> Sequence[int]:
        """The indexes of the rules to try on an event whose scan text is `text`, in rule order."""
        if self._database is None:
            return self._always_sorted
        found = self._found
        found.clear()
        self._database.scan(
            text.encode("utf-8", "surrogatepass"),
            match_event_handler=self._on_match,
            scratch=self._scratch,
        )
        if not found:
            return self._always_sorted
        rules = set(self._always_sorted)
        for pattern in found:
            rules.update(self._rules_of[pattern])
        return sorted(rules)

    def _on_match(self, pattern: int, start: int, end: int, flags: int, context: object) -> None:
        self._found.add(pattern)
