"""Rule names in silences and maintenance windows, checked against the loaded rule set: a typo there would mute
nothing, silently. An unknown id is refused with the closest ids; a silence whose label matchers no incident of
its rules can carry is refused too (`silence add --force` adds it anyway)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.engine.didyoumean import did_you_mean
from logpipe.errors import Location, RuleError

if TYPE_CHECKING:
    from logpipe.config.settings import Config
    from logpipe.engine.rules import RuleSet

ANY_RULE = "*"


def unknown_rule(rule_id: str, ruleset: RuleSet) -> str:
    """Why `rule_id` names no rule of the set ("no rule 'x'; did you mean 'y'?"), or "" when it names one."""
    known = ruleset.known_ids()
    if rule_id == ANY_RULE or rule_id in known:
        return ""
    return f"no rule {rule_id!r}{did_you_mean(rule_id, known)}"


def label_keys(ruleset: RuleSet, rule_id: str) -> dict[str, str | None]:
    """The labels an incident of the rule can carry: its group's fields and `container` (any value), and its
    fixed `labels:` (that value)."""
    entry = ruleset.entries.get(rule_id)
    if entry is None:
        return {}
    keys: dict[str, str | None] = {"container": None, **dict.fromkeys(entry.model.group_by)}
    keys.update(entry.model.labels)
    return keys


def silence_problem(rule_id: str, matchers: Mapping[str, str], ruleset: RuleSet) -> str:
    """Why a silence of `rule_id` with these label matchers would hold back nothing, or ""."""
    unknown = unknown_rule(rule_id, ruleset)
    if unknown:
        return unknown
    rules = ruleset.known_ids() if rule_id == ANY_RULE else [rule_id]
    if any(_could_match(label_keys(ruleset, rule), matchers) for rule in rules):
        return ""
    which = "no rule's incidents carry" if rule_id == ANY_RULE else f"no incident of {rule_id} carries"
    wanted = ", ".join(f"{key}={value}" for key, value in matchers.items())
    have = ", ".join(
        f"{key}={value}" if value is not None else key for key, value in label_keys(ruleset, rules[0]).items()
    )
    hint = f" (its labels: {have})" if rule_id != ANY_RULE else ""
    return f"{which} {wanted}{hint}"


def _could_match(keys: Mapping[str, str | None], matchers: Mapping[str, str]) -> bool:
    return all(key in keys and keys[key] in (None, value) for key, value in matchers.items())


def maintenance_problems(config: Config, config_path: Path | None, ruleset: RuleSet) -> list[RuleError]:
    """A maintenance window's `rules:` naming no rule: file:line of the config, with the closest ids."""
    if config_path is None or not any(window.rules for window in config.maintenance):
        return []
    document = load_yaml(config_path)
    problems = []
    for number, window in enumerate(config.maintenance):
        for index, rule_id in enumerate(window.rules):
            unknown = unknown_rule(rule_id, ruleset)
            if unknown:
                path = ("maintenance", number, "rules", index)
                problems.append(RuleError(Location(str(config_path), line_of(document, path), dotted(path)), unknown))
    return problems


def refuse_unknown_names(config: Config, config_path: Path | None, ruleset: RuleSet) -> None:
    """Raise RuleLoadError for the maintenance windows naming no rule (a follower's reload refuses such a set)."""
    from logpipe.engine.rules import RuleLoadError

    problems = maintenance_problems(config, config_path, ruleset)
    if problems:
        raise RuleLoadError(problems)
