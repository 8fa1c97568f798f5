"""Loading logpipe.yml: `${VAR}` interpolated from the environment, validated into settings.py's Config, and
checked against itself (routes and the digest name channels it defines, rule paths exist, the Sentry DSN parses);
every error names the file, line and field."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from logpipe.config.settings import Config
from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.errors import ConfigError, Location, RuleError

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        document = load_yaml(path)
    except RuleError as error:
        raise ConfigError(error.location, error.problem) from None
    if document is None:
        return Config()
    try:
        config = Config.model_validate(_interpolate(document, path, document, ()))
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        loc = tuple(part for part in problem["loc"] if isinstance(part, (str, int)))
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        raise ConfigError(Location(str(path), line_of(document, loc), dotted(loc)), message) from None
    _check_routes(config, path, document)
    _check_report(config, path, document)
    if config.sentry.dsn:
        bad_dsn = dsn_problem(config.sentry.dsn)
        if bad_dsn:
            raise ConfigError(Location(str(path), line_of(document, ("sentry", "dsn")), "sentry.dsn"), bad_dsn)
    if config.state.backend == "redis" and not config.state.url:
        where = Location(str(path), line_of(document, ("state", "backend")), "state.url")
        raise ConfigError(where, "the redis backend needs a url (redis://host:6379/0)")
    base = path.parent
    for index, rules_path in enumerate(config.rules):
        try:
            missing = "" if (base / rules_path).exists() else "no such file or directory"
        except OSError as error:  # a name too long for the file system, a loop of links...
            missing = error.strerror or type(error).__name__
        if missing:
            where = Location(str(path), line_of(document, ("rules", index)), f"rules[{index}]")
            raise ConfigError(where, f"{missing}: {base / rules_path}")
    return config.model_copy(
        update={
            "state_dir": base / config.state_dir if "state_dir" in document else config.state_dir,
            "rules": [base / p for p in config.rules],
            "templates": [base / p for p in config.templates],
        }
    )


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


def _check_routes(config: Config, path: Path, document: Any) -> None:
    known = destinations(config)
    for severity, names in config.routes.items():
        for index, name in enumerate(names):
            if name not in known:
                where = Location(
                    str(path), line_of(document, ("routes", severity, index)), f"routes.{severity}[{index}]"
                )
                raise ConfigError(where, f"unknown channel {name!r}; expected one of: {', '.join(sorted(known))}")


def _check_report(config: Config, path: Path, document: Any) -> None:
    if config.report is None:
        return
    for index, name in enumerate(config.report.channels):
        if name in config.channels and config.channels[name].kind in ("alertmanager", "pagerduty"):
            where = Location(str(path), line_of(document, ("report", "channels", index)), f"report.channels[{index}]")
            raise ConfigError(where, f"{name!r} is an on-call tool: it takes incidents, not the digest")
        if name not in config.channels:
            where = Location(str(path), line_of(document, ("report", "channels", index)), f"report.channels[{index}]")
            known = ", ".join(sorted(config.channels)) or "none (add one under channels:)"
            raise ConfigError(where, f"unknown channel {name!r}; the digest goes to channels, expected one of: {known}")


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
