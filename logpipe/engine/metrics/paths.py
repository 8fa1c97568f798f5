"""URL paths to path templates for metric labels (a label's `route:`): `/api/v1/clips/clp_8f2k/metadata?x=1` ->
`/api/v1/clips/:id/metadata`, so a label keyed by path stays a bounded set. Which segments are ids is configured per
label, as a placeholder and the regex a whole segment must match."""

from __future__ import annotations

import re
from collections.abc import Mapping

from logpipe.engine.conditions import SpecError
from logpipe.engine.linear import backtracking_construct

CACHE_SIZE = 4096  # paths remembered: most traffic repeats a few routes; ids are new each time


class _SpansSegments(Exception):
    """A placeholder's regex matched across a slash: that path is normalised segment by segment."""


class PathNormaliser:
    """Whole segments matching a placeholder's regex (the first placeholder whose regex matches the whole segment)
    become the placeholder.

    One `re.sub` over the path finds them: each alternative starts with a literal `/`, so the regex engine jumps
    from slash to slash in C. Splitting the path and looking each segment up cost 3 us a new path in pure Python
    (0.8 compiled), and with an id in most paths almost every path is new. A match that spans a slash, or a regex
    with anchors (which mean the segment's ends only when it is matched alone), falls back to the segment by
    segment way, so the result is the same. Seen paths are remembered too (`/api/v1/clips?page=2` repeats)."""

    def __init__(self, placeholders: Mapping[str, str]) -> None:
        self._rules: list[tuple[re.Pattern[str], str]] = []
        alternatives, self._groups = [], []
        group = 1
        for placeholder, regex in placeholders.items():
            if not placeholder or "/" in placeholder:
                raise SpecError((placeholder,), "a placeholder is a non-empty path segment, e.g. ':id'")
            try:
                pattern = re.compile(regex)
            except re.error as error:
                raise SpecError((placeholder,), f"invalid regex: {error.msg} at position {error.pos}") from None
            risky = backtracking_construct(regex)
            if risky:
                raise SpecError((placeholder,), f"regex uses {risky}, which needs a backtracking engine")
            self._rules.append((pattern, placeholder))
            alternatives.append(f"/({regex})(?=/|\\Z)")  # a whole segment: from a slash to a slash or the end
            self._groups.append((group, "/" + placeholder))
            group += pattern.groups + 1
        anchored = any(_ANCHOR.search(regex) for regex in placeholders.values())
        self._pattern = re.compile("|".join(alternatives)) if alternatives and not anchored else None
        # one placeholder (the pack's `:id`): a template replacement, no Python call per id (0.31 -> 0.1 us a
        # new path, compiled); whether a match spanned a slash shows as a lost slash
        self._template = "/" + next(iter(placeholders)).replace("\\", "\\\\") if len(placeholders) == 1 else None
        self._paths: dict[str, str] = {}
        self._last_path, self._last_route = "", ""

    def normalise(self, raw: str) -> str:
        if raw is self._last_path:  # two metrics label one event by its route: the second costs nothing
            return self._last_route
        path = raw
        if "?" in path or "#" in path:
            path = path.split("?", 1)[0].split("#", 1)[0]
        known = self._paths.get(path)
        if known is not None:
            self._last_path, self._last_route = raw, known
            return known
        route = self._by_pattern(path) if self._pattern is not None else None
        if route is None:
            route = self._by_segment(path)
        if route == path:  # a path with an id never comes again: remember only those without one
            if len(self._paths) >= CACHE_SIZE:
                self._paths.clear()  # a scan of random URLs must not grow memory; the next hits refill it
            self._paths[path] = route
        self._last_path, self._last_route = raw, route
        return route

    def _by_pattern(self, path: str) -> str | None:
        assert self._pattern is not None
        relative = path[:1] != "/"  # its first segment is a segment too
        if self._template is not None:
            whole = "/" + path if relative else path
            route = self._pattern.sub(self._template, whole)
            if route.count("/") != whole.count("/"):
                return None
            return route[1:] if relative else route
        try:
            route = self._pattern.sub(self._placeholder, "/" + path if relative else path)
        except _SpansSegments:
            return None
        return route[1:] if relative else route

    def _placeholder(self, found: re.Match[str]) -> str:
        if "/" in found.group(0)[1:]:
            raise _SpansSegments
        for group, placeholder in self._groups:
            if found.start(group) != -1:
                return placeholder
        raise _SpansSegments  # unreachable: one alternative matched

    def _by_segment(self, path: str) -> str:
        segments = path.split("/")
        for position, segment in enumerate(segments):
            if segment:
                for pattern, placeholder in self._rules:
                    if pattern.fullmatch(segment) is not None:
                        segments[position] = placeholder
                        break
        return "/".join(segments)


_ANCHOR = re.compile(r"[$^]|\\[AZbB]")
