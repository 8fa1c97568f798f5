"""Extractors: derive fields before rules run, so one rule works on every log format.

extract:
  - id: http-access-nest              # NestJS HTTP middleware: "GET /api/v1/clips 200 23ms ..."
    when: {logger: HTTP}
    from: message
    regex: '^(?P<method>[A-Z]+) (?P<path>\\S+) (?P<status>\\d{3}) (?P<duration_ms>\\d+(?:\\.\\d+)?)ms'
    prefix: http                       # -> http.method, http.path, http.status, http.duration_ms
  - id: http-access-pino               # pino-http JSON
    when: {res.statusCode: {exists: true}}
    copy: {http.method: req.method, http.path: req.url, http.status: res.statusCode,
           http.duration_ms: responseTime}
"""

from __future__ import annotations

from dataclasses import dataclass

from logpipe.engine.conditions import Condition, Getter, SpecError, Values, field_getter
from logpipe.engine.linear import LinearRegex, RegexRefused
from logpipe.engine.schema import ExtractModel
from logpipe.engine.specs import _typed
from logpipe.event import Event


@dataclass(frozen=True, slots=True)
class Extractor:
    id: str
    when: Condition | None
    source: Getter  # reads the field the regex runs on
    regex: LinearRegex | None
    targets: tuple[tuple[int, str], ...]  # (index in match.groups(), field it fills) per named group
    copies: tuple[tuple[str, str], ...]
    heads: frozenset[str]  # the first keys of the fields it fills (`http` for http.status)

    def apply(self, event: Event, values: Values) -> bool:
        """Fill the fields it derives from the event; whether it filled any."""
        if self.when is not None and not self.when.test(event, values):
            return False
        filled = False
        if self.regex is not None:
            text = self.source(event, values)
            groups = self.regex.search(text) if isinstance(text, str) else None
            if groups is not None:
                for index, target in self.targets:
                    captured = groups[index]  # its own name: compiled, `value` below holds any type
                    if captured is not None:
                        # a number only if it starts with a digit: no slice and method call per capture
                        values[target] = _typed(captured) if captured and captured[0] in _DIGITS else captured
                        filled = True
        for target, source in self.copies:
            value = values.get(source)
            if value is None:
                value = event.get(source)
            if value is not None:
                values[target] = value
                filled = True
        return filled


def compile_extractor(model: ExtractModel, when: Condition | None) -> Extractor:
    regex = None
    if model.regex is not None:
        try:
            regex = LinearRegex(model.regex)
        except RegexRefused as refused:
            raise SpecError(("regex",), str(refused)) from None
        if not regex.groupindex:
            raise SpecError(("regex",), "the regex names no group (?P<name>...), so it would extract nothing")
    if regex is None and not model.copy_fields:
        raise SpecError((), "an extractor needs `regex` or `copy`")
    prefix = f"{model.prefix}." if model.prefix else ""
    for target in [*(prefix + name for name in (regex.groupindex if regex else ())), *model.copy_fields]:
        if target.split(".", 1)[0] in _RESERVED:
            raise SpecError(("prefix",), f"{target!r} would shadow the event attribute of that name")
    targets = tuple((number - 1, prefix + name) for name, number in regex.groupindex.items()) if regex else ()
    copies = tuple(model.copy_fields.items())
    heads = frozenset(target.split(".", 1)[0] for target in [*(t for _, t in targets), *(t for t, _ in copies)])
    return Extractor(model.id, when, field_getter(model.source), regex, targets, copies, heads)


_DIGITS = "0123456789"
_RESERVED = frozenset({"level", "message", "logger", "context", "stream", "parser", "text", "container", "time"})
