"""A rule as the layers left it, for people: `logpipe rules show ID` prints the effective rule as YAML with the
file and line each setting came from (and what an override replaced), `rules list` a line per rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from logpipe.config.durations import format_duration
from logpipe.engine.layers import RuleEntry
from logpipe.engine.rulefiles import shown_location
from logpipe.engine.schema import KIND_MODELS

#: settings shown even when left at their default: they change what the rule does
_DEFAULTS_SHOWN = frozenset({"severity", "throttle", "repeat_interval", "keep_firing_for", "evaluate_every",
                             "flapping", "min_base", "min_count", "enabled", "kind"})  # fmt: skip
_COMMENT_AT = 60


def effective_yaml(entry: RuleEntry) -> str:
    """The rule as YAML that loads back, each setting with a comment saying where it came from: the settings in
    the order they were written (the definition's, then those overrides added), then the defaults that matter."""
    lines = [f"# {entry.id}: the effective rule, from {describe_origin(entry)}"]
    model = KIND_MODELS[entry.kind]
    shown = set()
    for key, value in entry.raw.items():
        if key != "replace":
            lines.extend(_setting(key, value, _origin_text(entry, key)))
            shown.add(key)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in _DEFAULTS_SHOWN and key not in shown:
            lines.extend(_setting(key, _default(getattr(entry.model, name)), "default"))
    return "\n".join(lines) + "\n"


def _origin_text(entry: RuleEntry, key: str) -> str:
    where = entry.origins.get(key, entry.defined)
    text = shown_location(where)
    earlier = entry.earlier.get(key)
    if earlier is not None:
        before, value = earlier
        text += f" (was {_inline(value)} at {shown_location(before)})"
    return text


def _setting(key: str, value: Any, origin: str) -> list[str]:
    plain = _plain(value)
    if isinstance(plain, str):
        plain = plain.strip()  # a folded `>` block's last newline: nothing a reader needs
    dumped = yaml.safe_dump(plain, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)
    body = dumped.removesuffix("\n").removesuffix("\n...").split("\n")
    if isinstance(plain, (dict, list)) and plain and (len(body) > 1 or not body[0].startswith(("{", "["))):
        if len(body) == 1:  # a block of one line: under its key, the comment beside it
            return [f"{key}:", f"{'  ' + body[0]:<{_COMMENT_AT}}  # {origin}"]
        return [f"# {key}: {origin}", f"{key}:", *("  " + line for line in body)]
    if len(body) == 1:
        return [f"{f'{key}: {body[0]}':<{_COMMENT_AT}}  # {origin}"]
    return [f"# {key}: {origin}", f"{key}: {body[0]}", *("  " + line for line in body[1:])]


def _inline(value: Any) -> str:
    text = yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False, width=10_000).strip()
    text = text.removesuffix("...").strip()
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(value: Any) -> Any:
    """YAML's line-keeping mappings and lists (and pydantic models) as plain values yaml can write."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(by_alias=True, exclude_none=True))
    return value


def _default(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1_000_000_000:
        return format_duration(value)  # the durations among the defaults (throttle, keep_firing_for...)
    return _plain(value)


def describe_origin(entry: RuleEntry) -> str:
    """`pack:clipforge/database.yml:84; count from tuning.yml:4` (for `rules list` and `rules show`)."""
    text = shown_location(entry.defined)
    if entry.replaced:
        text += " (replaces " + ", ".join(shown_location(where) for where in entry.replaced) + ")"
    by_place: dict[str, list[str]] = {}
    for key, where in entry.overridden.items():
        by_place.setdefault(shown_location(where), []).append(key)
    for place, keys in by_place.items():
        text += f"; {', '.join(keys)} from {place}"
    return text


def listing(entry: RuleEntry) -> dict[str, Any]:
    """`rules list -o json`: one rule."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "severity": entry.model.severity,
        "enabled": entry.enabled,
        "title": entry.model.title,
        "defined": shown_location(entry.defined),
        "replaces": [shown_location(where) for where in entry.replaced],
        "overridden": {key: shown_location(where) for key, where in entry.overridden.items()},
    }
