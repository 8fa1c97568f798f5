"""The prefilter: from one hyperscan scan of an event's text and a few index lookups on its attributes, which
rules (and extractors) could match it, so the cost per line stays nearly flat as rules are added.

Measured here per line on NestJS access lines: hyperscan 0.6-0.7 µs for 30 or 200 patterns, RE2 sets 0.8-0.9 µs,
Aho-Corasick 0.75-1.0 µs (and it needs literals pulled out of the regexes), Python `re` alternation 16-119 µs.

Patterns are compiled in prefilter mode, caseless where the rule is, multi-line: hyperscan may report a line that
the rule then rejects, never the reverse. Attribute needs (`logger: docker`, `level >= error`) are dict lookups.
A client whose conditions need neither is a candidate for every event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import hyperscan

from logpipe.engine.conditions import Need, Pattern
from logpipe.event import Event

_READ_ATTRIBUTE: dict[str, Callable[[Event], str]] = {
    "level": lambda event: event.level,
    "logger": lambda event: event.logger,
    "stream": lambda event: event.origin.stream,
    "parser": lambda event: event.parser,
}
_FLAGS = (
    hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_SINGLEMATCH
    | hyperscan.HS_FLAG_MULTILINE
    | hyperscan.HS_FLAG_UTF8
    | hyperscan.HS_FLAG_UCP
    | hyperscan.HS_FLAG_ALLOWEMPTY
)


class Prefilter:
    def __init__(self, requirements: Sequence[frozenset[Need] | None]) -> None:
        """`requirements[i]`: the needs any one of which client i has, or None (a candidate for every event)."""
        always = {i for i, need in enumerate(requirements) if need is None}
        self.unfiltered: list[int] = []  # clients with a pattern hyperscan refused: candidates for every event
        patterns: dict[Pattern, list[int]] = {}
        by_attribute: dict[str, dict[str, list[int]]] = {}
        for client, needs in enumerate(requirements):
            for need in needs or ():
                if isinstance(need, Pattern):
                    patterns.setdefault(need, []).append(client)
                else:
                    by_attribute.setdefault(need.attribute, {}).setdefault(need.value, []).append(client)
        self._patterns = list(patterns)
        self._owners = [tuple(owners) for owners in patterns.values()]
        self._database = self._compile() if patterns else None
        self._scratch = hyperscan.Scratch(self._database) if self._database is not None else None
        self._attributes = tuple(
            (_READ_ATTRIBUTE[name], {value: tuple(clients) for value, clients in index.items()})
            for name, index in by_attribute.items()
        )
        self.always = tuple(sorted(always | set(self.unfiltered)))
        self._found: set[int] = set()

    def _compile(self) -> hyperscan.Database | None:
        accepted = list(range(len(self._patterns)))
        try:  # all at once first: compiling each alone as well doubled the start-up (about 1 s for the pack)
            return self._build(accepted) if accepted else None
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
                self.unfiltered.extend(self._owners[index])
        if not accepted:
            return None
        return self._build(accepted)

    def _build(self, accepted: list[int]) -> hyperscan.Database:
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
        return _FLAGS | (hyperscan.HS_FLAG_CASELESS if pattern.ignore_case else 0)

    def candidates(self, event: Event, text: str) -> Sequence[int]:
        """The clients to try on an event whose scan text (message and stack) is `text`, in client order."""
        hits: list[int] = []
        if self._database is not None:
            found = self._found
            found.clear()
            self._database.scan(
                text.encode("utf-8", "surrogatepass"), match_event_handler=self._on_match, scratch=self._scratch
            )
            for pattern in found:
                hits.extend(self._owners[pattern])
        for read, index in self._attributes:
            clients = index.get(read(event))
            if clients:
                hits.extend(clients)
        if not hits:
            return self.always
        return sorted({*self.always, *hits})

    def _on_match(self, pattern: int, start: int, end: int, flags: int, context: object) -> None:
        self._found.add(pattern)
