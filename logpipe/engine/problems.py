"""What is wrong with a rule file, said as people fix it: pydantic's validation errors turned into file:line:
field: problem, with the closest key for a typo ("did you mean 'kind'?") and the kind a setting belongs to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from logpipe.config.yamlfile import dotted, line_of
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.metrics.schema import MetricModel
from logpipe.engine.schema import FIXED_KEYS, KIND_MODELS, Examples, ExtractModel, Override, RuleFile
from logpipe.errors import Location, RuleError

Path_ = tuple[str | int, ...]


def keys_of(model: type[BaseModel]) -> list[str]:
    """A model's keys as written in files (`for`, not `pending`)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def kinds_having(key: str) -> list[str]:
    return [kind for kind, model in KIND_MODELS.items() if key in keys_of(model)]


def schema_errors(file: Path, document: Any, invalid: ValidationError, prefix: Path_ = ()) -> list[RuleError]:
    """Each of pydantic's errors for the value at `prefix` in `document`, located and explained."""
    return [
        RuleError(Location(str(file), line_of(document, loc), dotted(loc)), message)
        for loc, message in problems_of(invalid, prefix)
    ]


def problems_of(invalid: ValidationError, prefix: Path_ = ()) -> list[tuple[Path_, str]]:
    """Each of pydantic's errors as (where in the file, what is wrong) for the value at `prefix`."""
    found = []
    for problem in invalid.errors():
        # pydantic's own steps (`function-after[...]`, a union member's name) are not keys in the file; a key that
        # only looks like one (any text is a YAML key) is kept when nothing else names the place
        inner = tuple(part for part in problem["loc"] if not _pydantic_step(part)) or tuple(problem["loc"][-1:])
        loc = (*prefix, *inner)
        kind = "every"
        if len(loc) > 2 and loc[0] == "rules" and loc[2] in KIND_MODELS:
            kind, loc = str(loc[2]), loc[:2] + loc[3:]  # the union's tag (the rule's kind) is not a key in the file
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = unknown_key(loc, kind)
        elif problem["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing"
        elif problem["type"] == "union_tag_invalid":
            loc = (*loc, "kind")
            message = f"unknown kind{did_you_mean(str(problem.get('input', '')), KIND_MODELS)}; expected one of: "
            message += ", ".join(KIND_MODELS)
        elif problem["type"].startswith("value_error"):
            message = message.removeprefix("Value error, ")
        found.append((loc, message))
    return found


def unknown_key(loc: Path_, kind: str = "every") -> str:
    """`unknown key 'severty'; did you mean 'severity'? (expected one of: ...)`, or which kind has the key."""
    key = str(loc[-1])
    section = str(loc[0]) if len(loc) > 2 else ""
    if section == "overrides" and len(loc) == 3 and key in FIXED_KEYS:
        return (
            f"`{key}` cannot be overridden: it is what the rule matches or counts; to change it, write the whole "
            "rule again under rules: with `replace: true`"
        )
    if section == "rules" and len(loc) == 3:
        others = [other for other in kinds_having(key) if other != kind]
        if others:
            hint = f"; did you forget `kind: {others[0]}`?" if kind == "every" else ""
            article = "an" if kind[0] in "aeiou" else "a"
            having = " and ".join(others)
            return f"unknown key {key!r}: {article} {kind} rule has no `{key}`, {having} rules have it{hint}"
    model = _model_at(loc, kind)
    if model is None:
        return f"unknown key {key!r}"
    known = keys_of(model)
    return f"unknown key {key!r}{did_you_mean(key, known)} (expected one of: {', '.join(known)})"


def _model_at(loc: Path_, kind: str) -> type[BaseModel] | None:
    if len(loc) <= 2:
        return RuleFile
    if len(loc) == 4 and loc[0] == "rules" and loc[2] == "examples":
        return Examples
    if len(loc) != 3:
        return None
    sections: dict[str, type[BaseModel]] = {
        "rules": KIND_MODELS.get(kind, KIND_MODELS["every"]),
        "extract": ExtractModel,
        "metrics": MetricModel,
        "overrides": Override,
    }
    return sections.get(str(loc[0]))


def misnamed_kind(item: Any) -> tuple[str, str] | None:
    """A rule that names its kind under another key (`type: threshold`): (that key, the kind). Validating it as
    the default kind would only say "unknown key count, window": the key is the one mistake to report."""
    if not isinstance(item, dict) or "kind" in item:
        return None
    every_key = {key for model in KIND_MODELS.values() for key in keys_of(model)}
    for key, value in item.items():
        if key not in every_key and isinstance(value, str) and value in KIND_MODELS:
            return key, value
    return None


def _pydantic_step(part: object) -> bool:
    text = str(part)
    return not isinstance(part, (str, int)) or ("[" in text and text.endswith("]") and text[:1].isalpha())
