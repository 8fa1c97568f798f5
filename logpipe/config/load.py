"""Loading logpipe.yml: `${VAR}` interpolated from the environment, validated into settings.py's Config, and
checked against itself (routes and the digest name channels it defines, rule sources exist, the Sentry DSN parses);
every problem names the file, line and field, all of them in one run."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from logpipe.config.settings import Config
from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.rulefiles import pack_dir
from logpipe.errors import ConfigError, Location, LogpipeError, RuleError

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


class ConfigProblems(ConfigError):
    """Several problems in one configuration file, each with its line: all of them reported in one run."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        LogpipeError.__init__(self, "\n".join(str(error) for error in errors))
        self.location, self.problem = errors[0].location, errors[0].problem


def load_config(path: Path | None) -> Config:
    """The configuration at `path` (defaults without one); ConfigError naming file and line for one problem,
    ConfigProblems for several."""
    if path is None:
        return Config()
    try:
        document = load_yaml(path)
    except RuleError as error:
        raise ConfigError(error.location, error.problem) from None
    if document is None:
        return Config()
    problems: list[ConfigError] = []
    values = _interpolate(document, path, document, ())
    if isinstance(values, dict) and isinstance(values.get("rules"), list):
        values["rules"] = _rule_sources(values["rules"], path, document, problems)
    try:
        config = Config.model_validate(values)
    except ValidationError as invalid:
        for problem in invalid.errors():
            loc = tuple(part for part in problem["loc"] if isinstance(part, (str, int)))
            message = problem["msg"]
            if problem["type"] == "extra_forbidden":
                message = f"unknown key{did_you_mean(str(loc[-1]), _keys_at(loc))}"
            problems.append(ConfigError(Location(str(path), line_of(document, loc), dotted(loc)), message))
        raise _raised(problems) from None
    problems += _check_routes(config, path, document) + _check_report(config, path, document)
    if config.sentry.dsn:
        bad_dsn = dsn_problem(config.sentry.dsn)
        if bad_dsn:
            problems.append(
                ConfigError(Location(str(path), line_of(document, ("sentry", "dsn")), "sentry.dsn"), bad_dsn)
            )
    if config.state.backend == "redis" and not config.state.url:
        where = Location(str(path), line_of(document, ("state", "backend")), "state.url")
        problems.append(ConfigError(where, "the redis backend needs a url (redis://host:6379/0)"))
    base = path.parent
    for index, rules_path in enumerate(config.rules):
        try:
            missing = "" if (base / rules_path).exists() else "no such file or directory"
        except OSError as error:  # a name too long for the file system, a loop of links...
            missing = error.strerror or type(error).__name__
        if missing:
            where = Location(str(path), line_of(document, ("rules", index)), f"rules[{index}]")
            problems.append(ConfigError(where, f"{missing}: {base / rules_path}"))
    if problems:
        raise _raised(problems)
    return config.model_copy(
        update={
            "state_dir": base / config.state_dir if "state_dir" in document else config.state_dir,
            "rules": [base / p for p in config.rules],
            "templates": [base / p for p in config.templates],
        }
    )


def _raised(problems: list[ConfigError]) -> ConfigError:
    problems.sort(key=lambda error: error.location.line or 0)
    return problems[0] if len(problems) == 1 else ConfigProblems(problems)


def _rule_sources(items: list[Any], path: Path, document: Any, problems: list[ConfigError]) -> list[Any]:
    """`rules:` items as paths: `{pack: clipforge}` is the shipped pack's directory (an unknown pack a problem)."""
    sources: list[Any] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and set(item) == {"pack"}:
            try:
                sources.append(str(pack_dir(str(item["pack"]))))
            except ValueError as error:
                where = Location(str(path), line_of(document, ("rules", index, "pack")), f"rules[{index}].pack")
                problems.append(ConfigError(where, str(error)))
            continue
        sources.append(item)
    return sources


def _keys_at(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the config allows where `loc` ends (for "did you mean")."""
    model: Any = Config
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) and hasattr(model, "model_fields") else None
        annotation = getattr(field, "annotation", None)
        if annotation is None or not hasattr(annotation, "model_fields"):
            return []
        model = annotation
    return list(model.model_fields)


def dsn_problem(dsn: str) -> str | None:
    """Why `dsn` is not a Sentry DSN, or None."""
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn as error:
        return f"not a Sentry DSN ({error}); expected https://PUBLIC_KEY@HOST/PROJECT_ID, from the project's settings"
    return None


def destinations(config: Config) -> set[str]:
    """The names a route or a rule's `actions` may use."""
    return {"sentry", *config.channels}


def _check_routes(config: Config, path: Path, document: Any) -> list[ConfigError]:
    known = destinations(config)
    problems = []
    for severity, names in config.routes.items():
        for index, name in enumerate(names):
            if name not in known:
                where = Location(
                    str(path), line_of(document, ("routes", severity, index)), f"routes.{severity}[{index}]"
                )
                expected = f"{did_you_mean(name, known)} (expected one of: {', '.join(sorted(known))})"
                problems.append(ConfigError(where, f"unknown channel {name!r}{expected}"))
    return problems


def _check_report(config: Config, path: Path, document: Any) -> list[ConfigError]:
    if config.report is None:
        return []
    problems = []
    for index, name in enumerate(config.report.channels):
        if name in config.channels and config.channels[name].kind in ("alertmanager", "pagerduty"):
            where = Location(str(path), line_of(document, ("report", "channels", index)), f"report.channels[{index}]")
            raise ConfigError(where, f"{name!r} is an on-call tool: it takes incidents, not the digest")
        if name not in config.channels:
            where = Location(str(path), line_of(document, ("report", "channels", index)), f"report.channels[{index}]")
            known = ", ".join(sorted(config.channels)) or "none (add one under channels:)"
            problems.append(
                ConfigError(where, f"unknown channel {name!r}; the digest goes to channels, expected one of: {known}")
            )
    return problems


def _interpolate(value: Any, path: Path, document: Any, at: tuple[str | int, ...]) -> Any:
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            name, default = found.group(1), found.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is None:
                where = Location(str(path), line_of(document, at), dotted(at))
                raise ConfigError(where, f"${{{name}}} is not set; set {name}, or write ${{{name}:-default}}")
            return default

        return _VARIABLE.sub(replace, value)
    if isinstance(value, dict):
        return {key: _interpolate(item, path, document, (*at, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, path, document, (*at, index)) for index, item in enumerate(value)]
    return value
