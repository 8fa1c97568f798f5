"""URL paths to routes for metric labels: `/api/v1/clips/clp_8f2k/metadata?x=1` -> `/api/v1/clips/:id/metadata`,
so a label keyed by path stays a bounded set. Which segments are ids is configured per label, as a placeholder and
the regex a whole segment must match."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from logpipe.engine.conditions import SpecError, catastrophic_construct

CACHE_SIZE = 4096  # paths, and segments, remembered: most traffic repeats a few routes; ids are new each time


class RouteNormaliser:
    def __init__(self, placeholders: Mapping[str, str]) -> None:
        self._rules: list[tuple[Callable[[str], re.Match[str] | None], str]] = []
        for placeholder, regex in placeholders.items():
            if not placeholder or "/" in placeholder:
                raise SpecError((placeholder,), "a placeholder is a non-empty path segment, e.g. ':id'")
            try:
                pattern = re.compile(regex)
            except re.error as error:
                raise SpecError((placeholder,), f"invalid regex: {error.msg} at position {error.pos}") from None
            risky = catastrophic_construct(regex)
            if risky:
                raise SpecError((placeholder,), f"regex is prone to catastrophic backtracking ({risky})")
            self._rules.append((pattern.fullmatch, placeholder))  # a whole segment, never part of one
        self._paths: dict[str, str] = {}
        # segment -> its placeholder, or "" to keep it: `api`, `v1`, `clips` are looked up, not matched, each time
        self._segments: dict[str, str] = {}

    def normalise(self, path: str) -> str:
        if "?" in path or "#" in path:
            path = path.split("?", 1)[0].split("#", 1)[0]
        known = self._paths.get(path)
        if known is not None:
            return known
        segments = path.split("/")
        cache = self._segments
        changed = False
        for position, segment in enumerate(segments):
            replaced = cache.get(segment)
            if replaced is None:
                replaced = self._replace(segment)
                if len(cache) >= CACHE_SIZE:
                    cache.clear()  # ids fill it; the common segments come back at once
                cache[segment] = replaced
            if replaced:
                segments[position] = replaced
                changed = True
        route = "/".join(segments) if changed else path
        if len(self._paths) >= CACHE_SIZE:
            self._paths.clear()  # a scan of random URLs must not grow memory; the next hits refill it
        self._paths[path] = route
        return route

    def _replace(self, segment: str) -> str:
        """The placeholder of the first rule the whole segment matches, or "" (keep it)."""
        if segment:
            for matches, placeholder in self._rules:
                if matches(segment) is not None:
                    return placeholder
        return ""
