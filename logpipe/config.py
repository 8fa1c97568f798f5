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
    maintenance:                          # recurring windows: notifications recorded, not sent
      - {name: weekly-db-upgrade, days: [sun], start: "03:00", duration: 1h, timezone: Europe/Berlin,
         rules: [postgres-connection-error, postgres-connection-errors-burst]}

`${VAR}` and `${VAR:-default}` are replaced from the environment in every string.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from logpipe.engine.durations import parse_duration
from logpipe.engine.schema import Duration
from logpipe.engine.yamlfile import dotted, line_of, load_yaml
from logpipe.errors import ConfigError, Location, RuleError
from logpipe.incidents.silences import MaintenanceWindow
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


class MaintenanceConfig(_Strict):
    """A recurring maintenance window: notifications of the rules listed (all when empty) whose labels match are
    recorded, not sent, on `days` (every day when empty) from `start` for `duration`."""

    name: str = Field(min_length=1)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM in `timezone`")
    duration: Duration
    timezone: str = "UTC"
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = []
    rules: list[str] = []
    match: dict[str, str] = {}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value

    def window(self) -> MaintenanceWindow:
        hour, minute = (int(part) for part in self.start.split(":"))
        return MaintenanceWindow(
            self.name,
            dt.time(hour, minute),
            self.duration,
            self.timezone,
            tuple(self.days),
            tuple(self.rules),
            tuple(sorted(self.match.items())),
        )


class Config(_Strict):
    state_dir: Path = Field(default_factory=lambda: default_state_dir())  # noqa: PLW0108 - defined below
    rules: list[Path] = []
    templates: list[Path] = []
    sentry: SentryConfig = SentryConfig.model_validate({})  # frozen: a shared default is safe
    channels: dict[str, ChannelConfig] = {}
    routes: dict[Literal["info", "warning", "critical"], list[str]] = {}
    outbox: OutboxConfig = OutboxConfig.model_validate({})
    probes: Probes = []  # HTTP health checks (sources/probeconfig.py)
    resources: ResourcesConfig = ResourcesConfig.model_validate({})  # container stats and disk usage
    maintenance: list[MaintenanceConfig] = []

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
