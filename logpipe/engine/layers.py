"""Rule sets in layers, as Prometheus rule files and Alertmanager config stack: each source's rules sit on top of
the earlier ones. A later file may add rules, change an earlier rule's settings by id, field by field
(`overrides:`), or replace a rule whole (`replace: true`); every effective field remembers the file and line it
came from, for `logpipe rules list` and `rules show`.

    overrides:                                  # in the user's file, after `pack: clipforge` in the sources
      - {id: signups-low, enabled: false}
      - {id: postgres-connection-errors-burst, count: 5}
      - {id: http-error-rate, thresholds: {warning: 0.03}}    # mappings merge: critical stays 0.10
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from logpipe.config.yamlfile import dotted, line_of
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.problems import problems_of
from logpipe.engine.rulefiles import DEFAULT_PACK, pack_of, pack_rule_ids
from logpipe.engine.schema import AnyRule, Override, RuleModel
from logpipe.errors import Location, RuleError

RULE_ADAPTER: TypeAdapter[AnyRule] = TypeAdapter(RuleModel)
#: settings whose value is a mapping: an override merges its keys into the earlier ones
MERGED = ("thresholds", "labels", "flapping")
#: the spellings of one setting in files: an override's `for` replaces the rule's `for`, whichever it wrote
SPELLINGS = {"pending": ("for", "pending"), "for": ("for", "pending"), "actions": ("actions", "routes")}
SPELLINGS["routes"] = SPELLINGS["actions"]
#: one level or two: an override giving one drops the other (switching a rule from two levels to one)
EITHER = {"above": "thresholds", "thresholds": "above"}


@dataclass(frozen=True, slots=True)
class Written:
    """A section item as it stands in one file: its place, its YAML (with lines), and its model when valid."""

    id: str
    file: Path
    document: Any
    path: tuple[str | int, ...]
    model: Any  # AnyRule (a definition) or Override; None when the item is invalid

    @property
    def raw(self) -> Any:
        node = self.document
        for part in self.path:
            node = node[part]
        return node

    def location(self, *inner: str | int) -> Location:
        where = (*self.path, *inner)
        return Location(str(self.file), line_of(self.document, where), dotted(where))


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """One rule as the layers leave it: its effective model and where each of its settings was written."""

    id: str
    model: AnyRule
    enabled: bool
    defined: Location  # the definition in force (the last one, when replaced)
    origins: Mapping[str, Location]  # each setting written anywhere (key as in files) -> where, last one wins
    overridden: Mapping[str, Location]  # the settings an override set -> where
    replaced: tuple[Location, ...] = ()  # earlier definitions this one replaced
    earlier: Mapping[str, tuple[Location, Any]] = field(default_factory=dict)  # what overrides replaced: where, value
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the merged YAML (conditions keep lines)

    @property
    def kind(self) -> str:
        return str(getattr(self.model, "kind", "every"))

    def origin(self, key: str) -> Location | None:
        return self.origins.get(key)


@dataclass(slots=True)
class _Layered:
    definition: Written
    changes: list[Written] = field(default_factory=list)
    replaced: list[Location] = field(default_factory=list)


class Layers:
    """Definitions and overrides fed in source order (a file's rules, then its overrides); `entries()` merges."""

    def __init__(self) -> None:
        self._rules: dict[str, _Layered] = {}
        self.errors: list[RuleError] = []

    def __contains__(self, rule_id: str) -> bool:
        return rule_id in self._rules

    def define(self, written: Written) -> bool:
        """A rule definition; False (and an error) for a second one without `replace: true`."""
        earlier = self._rules.get(written.id)
        replacing = isinstance(written.raw, dict) and written.raw.get("replace") is True
        if earlier is None:
            if replacing:
                problem = f"replace: true, but no earlier rule has id {written.id!r}"
                self.errors.append(RuleError(written.location("replace"), problem + self._suggest(written.id)))
            self._rules[written.id] = _Layered(written)
            return True
        first = earlier.definition.location("id")
        if not replacing:
            self.errors.append(
                RuleError(
                    written.location("id"),
                    f"duplicate id {written.id!r}, first defined at {first}; to replace that rule write "
                    "`replace: true`, to change some of its settings use `overrides:`",
                )
            )
            return False
        self._rules[written.id] = _Layered(written, replaced=[*earlier.replaced, first])
        return True

    def override(self, written: Written) -> None:
        layered = self._rules.get(written.id)
        if layered is None:
            problem = f"no rule {written.id!r} to override" + self._suggest(written.id)
            no_pack = not any(pack_of(item.definition.file) for item in self._rules.values())
            if no_pack and written.id in pack_rule_ids(DEFAULT_PACK):
                problem += f" (no pack is loaded before this file: list `pack: {DEFAULT_PACK}` first in rules:)"
            self.errors.append(RuleError(written.location("id"), problem))
            return
        layered.changes.append(written)

    def _suggest(self, rule_id: str) -> str:
        return did_you_mean(rule_id, self._rules)

    def known(self) -> list[str]:
        return list(self._rules)

    def entries(self) -> list[RuleEntry]:
        """Every rule, in the order first defined, with its overrides applied and validated; a rule whose merged
        settings are invalid is left out (its errors, located where each setting was written, in `errors`)."""
        found = []
        for layered in self._rules.values():
            entry = self._merge(layered)
            if entry is not None:
                found.append(entry)
        return found

    def _merge(self, layered: _Layered) -> RuleEntry | None:
        definition = layered.definition
        if definition.model is None:
            return None  # invalid as written: already reported
        base = definition.raw
        merged: dict[str, Any] = dict(base)
        written_at: dict[str, Written] = dict.fromkeys(base, definition)
        overridden: dict[str, Location] = {}
        earlier_values: dict[str, tuple[Location, Any]] = {}
        for change in layered.changes:
            for key, value in change.raw.items():
                if key == "id":
                    continue
                earlier = merged.get(key)
                for spelling in SPELLINGS.get(key, (key,)):
                    if spelling in base and spelling not in earlier_values:
                        earlier_values[key] = (definition.location(spelling), base[spelling])
                    if spelling != key:  # the same setting spelled otherwise (`pending` for `for`): this one wins
                        merged.pop(spelling, None)
                        written_at.pop(spelling, None)
                if key in EITHER:
                    merged.pop(EITHER[key], None)
                    written_at.pop(EITHER[key], None)
                if key in MERGED and isinstance(value, dict) and isinstance(earlier, dict):
                    merged[key] = {**earlier, **value}
                else:
                    merged[key] = value
                written_at[key] = change
                overridden[key] = change.location(key)
        model = definition.model
        if layered.changes:
            try:
                model = RULE_ADAPTER.validate_python(merged)
            except ValidationError as invalid:
                self.errors.extend(_merged_errors(invalid, written_at, definition))
                return None
        origins = {key: written.location(key) if written is not definition else definition.location(key)
                   for key, written in written_at.items()}  # fmt: skip
        return RuleEntry(
            id=definition.id,
            model=model,
            enabled=bool(getattr(model, "enabled", True)),
            defined=definition.location(),
            origins=origins,
            overridden=overridden,
            replaced=tuple(layered.replaced),
            earlier=earlier_values,
            raw=merged,
        )


def _merged_errors(invalid: ValidationError, written_at: dict[str, Written], definition: Written) -> list[RuleError]:
    """A merged rule's errors, each at the file that wrote the setting (an override's line for its value)."""
    errors = []
    for loc, message in problems_of(invalid, ("rules", 0)):
        inner = loc[2:]
        key = str(inner[0]) if inner else ""
        source = written_at.get(key, definition)
        where = source.location(*inner)
        label = f"{where.path} (of {definition.id})" if source is not definition else where.path
        errors.append(RuleError(Location(where.file, where.line, label), message))
    return errors


def override_of(written: Written) -> Override | None:
    return written.model if isinstance(written.model, Override) else None
