"""logpipe.yml: where state lives, which rules run, and where alerts go. Errors name file, line and field.

    state_dir: /var/lib/logpipe
    rules: [rules/]                       # default: the shipped ClipForge pack
    templates: [templates/]               # searched before the defaults
    sentry:
      dsn: ${SENTRY_DSN}                  # also read from the SENTRY_DSN environment variable
      environment: production
    channels:
      oncall-slack: {url: "${SLACK_WEBHOOK_URL}"}                  # https://hooks.slack.com/... -> slack
      oncall-email: {url: "mailtos://user:pass@smtp.example.com?to=oncall@clipforge.app"}
      ops-webhook: {url: "https://ops.example.com/hooks/logpipe", kind: webhook}
    routes:                               # by severity, for rules without `actions`
      critical: [sentry, oncall-slack, oncall-email]
      warning: [sentry, oncall-slack]
      info: [sentry]
    outbox: {max_pending: 100000, max_attempts: 12, initial_backoff: 2s, max_backoff: 5m}
    probes: [...]                         # health checks; resources: container stats, disk (probeconfig.py)

`${VAR}` and `${VAR:-default}` are replaced from the environment in every string.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from logpipe.engine.durations import parse_duration
from logpipe.engine.schema import Duration
from logpipe.engine.yamlfile import dotted, line_of, load_yaml
from logpipe.errors import ConfigError, Location, RuleError
from logpipe.sources.probeconfig import Probes, ResourcesConfig

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SentryConfig(_Strict):
    dsn: str | None = None
    environment: str | None = None
    release: str | None = None
    max_breadcrumbs: int = Field(50, ge=0, le=100)


class ChannelConfig(_Strict):
    url: str = Field(min_length=3)
    kind: Literal["slack", "webhook", "email", "apprise"] | None = None


class OutboxConfig(_Strict):
    max_pending: int = Field(100_000, ge=10)
    max_attempts: int = Field(12, ge=1)
    initial_backoff: Duration = parse_duration("2s")
    max_backoff: Duration = parse_duration("5m")


class Config(_Strict):
    state_dir: Path = Field(default_factory=lambda: default_state_dir())  # noqa: PLW0108 - defined below
    rules: list[Path] = []
    templates: list[Path] = []
    sentry: SentryConfig = SentryConfig()
    channels: dict[str, ChannelConfig] = {}
    routes: dict[Literal["info", "warning", "critical"], list[str]] = {}
    outbox: OutboxConfig = OutboxConfig()
    probes: Probes = []  # HTTP health checks (sources/probeconfig.py)
    resources: ResourcesConfig = ResourcesConfig()  # container stats and disk usage

    def sentry_dsn(self) -> str | None:
        return self.sentry.dsn or os.environ.get("SENTRY_DSN") or None

    def sinks_for(self, severity: str) -> list[str]:
        """The route for a severity; without routes: Sentry gets everything, channels get warning and critical."""
        if severity in self.routes:
            return list(self.routes[severity])
        names = ["sentry"] if self.sentry_dsn() else []
        if severity != "info":
            names += list(self.channels)
        return names


def default_state_dir() -> Path:
    if os.environ.get("LOGPIPE_STATE_DIR"):
        return Path(os.environ["LOGPIPE_STATE_DIR"])
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "logpipe"


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
        config = Config.model_validate(_interpolate(document))
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        loc = tuple(part for part in problem["loc"] if isinstance(part, (str, int)))
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        raise ConfigError(Location(str(path), line_of(document, loc), dotted(loc)), message) from None
    base = path.parent
    return config.model_copy(
        update={
            "state_dir": base / config.state_dir if "state_dir" in document else config.state_dir,
            "rules": [base / p for p in config.rules],
            "templates": [base / p for p in config.templates],
        }
    )


def _interpolate(value: Any) -> Any:
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, dict):
        return {key: _interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item) for item in value]
    return value
