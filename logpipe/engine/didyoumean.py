"""Suggestions for a mistyped name (a rule id, a key, a field): the closest known names, as git and pip offer."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: words people write for a key logpipe spells otherwise (difflib cannot see that `type` means `kind`)
SYNONYMS = {
    "type": "kind",
    "name": "id",
    "level": "severity",
    "priority": "severity",
    "condition": "match",
    "conditions": "match",
    "filter": "match",
    "interval": "window",
    "period": "window",
    "threshold": "count",
    "disabled": "enabled",
    "enable": "enabled",
    "msg": "message",
    "channels": "routes",
    "receivers": "routes",
}


def closest(word: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to `word`, best first: a synonym first when it is known, then by spelling."""
    choices = sorted(set(known))
    found = [SYNONYMS[word]] if SYNONYMS.get(word) in choices else []
    scored = sorted(((_similarity(word, name), name) for name in choices), reverse=True)
    best = scored[0][0] if scored else 0.0
    # the near-best only: `trottle` is `throttle`, and `title` (also over the cutoff) would be noise
    found += [name for score, name in scored[:limit] if score >= CUTOFF and score >= best - 0.1 and name not in found]
    if not found:  # a prefix or a part: `postgres-burst` for `postgres-connection-errors-burst`
        parts = [part for part in word.replace("_", "-").split("-") if len(part) > 2]
        found = [name for name in choices if parts and all(part in name for part in parts)][:limit]
    return found[:limit]


CUTOFF = 0.6


def _similarity(word: str, name: str) -> float:
    return difflib.SequenceMatcher(None, word, name).ratio()


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`; did you mean 'kind'?` (or `'a' or 'b'`), or "" when nothing is close."""
    found = closest(word, known)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(name) for name in found) + "?"
