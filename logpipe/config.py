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
    outbox: {max_pending: 100000, max_attempts: 12, initial_backoff: 2s, max_backoff: 5m, retention: 7d}
    probes: [...]                         # health checks; resources: container stats, disk (probeconfig.py)
    state: {backend: redis, url: "rediss://logpipe:${REDIS_PASSWORD}@redis.internal:6380/0", prefix: "clipforge:"}
    maintenance:                          # recurring windows: notifications recorded, not sent
      - {name: weekly-db-upgrade, days: [sun], start: "03:00", duration: 1h, timezone: Europe/Berlin,
         rules: [postgres-connection-error, postgres-connection-errors-burst]}
    report: {daily_at: "08:00", timezone: Europe/Berlin, channels: [oncall-email]}   # daily digest: report/schedule.py

`${VAR}` and `${VAR:-default}` are replaced from the environment in every string; `${VAR}` with VAR unset is an
error (write `${VAR:-}` for "empty when unset"). Routes must name `sentry` or a channel, and `rules:` paths must
exist: each mistake is an error at its line, not an alert silently sent nowhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from logpipe.engine.durations import parse_duration
from logpipe.engine.schema import Duration, TimeZoneName
from logpipe.engine.yamlfile import dotted, line_of, load_yaml
from logpipe.errors import ConfigError, Location, RuleError
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.report.schedule import ReportConfig
from logpipe.sources.probeconfig import Probes, ResourcesConfig

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SentryConfig(_Strict):
    dsn: str | None = None
    environment: str | None = None
    release: str | None = None
    max_breadcrumbs: int = Field(50, ge=0, le=100)


# the on-call tools' channel kinds (sinks/alertmanager.py, sinks/pagerduty.py), and the fields each adds
ONCALL_KINDS = ("alertmanager", "pagerduty")
_OWN_FIELDS = {"alertmanager": ("resend", "labels"), "pagerduty": ("routing_key",)}
# PagerDuty's Events API v2: where a `pagerduty` channel posts when it names no url
EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


class ChannelConfig(_Strict):
    """A notification channel. The on-call tools' kinds (`alertmanager`, `pagerduty`) add their own fields."""

    url: str | list[str] | None = None  # several only for alertmanager (an HA pair); pagerduty has a default
    kind: Literal["slack", "webhook", "email", "apprise", "alertmanager", "pagerduty"] | None = None
    resend: Duration | None = None  # alertmanager: how often open alerts are posted again (default 1m)
    labels: dict[str, str] | None = None  # alertmanager: labels added to every alert (`service`, `env`)
    routing_key: str | None = None  # pagerduty: the Events API v2 integration key

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> ChannelConfig:
        problem = self._problem()
        if problem:
            raise PydanticCustomError("channel", problem)  # the message as it is, without "Value error, "
        return self

    def urls(self) -> list[str]:
        """The URLs it sends to (the default one for pagerduty)."""
        if self.url is None:
            return [EVENTS_URL] if self.kind == "pagerduty" else []
        return list(self.url) if isinstance(self.url, list) else [self.url]

    def _problem(self) -> str | None:
        """What is wrong with a channel's fields for its kind, or None."""
        kind = self.kind
        for other, fields in _OWN_FIELDS.items():
            for field in fields:
                if getattr(self, field) is not None and kind != other:
                    return f"`{field}` is a field of kind {other} channels"
        urls = self.url if isinstance(self.url, list) else [] if self.url is None else [self.url]
        if kind == "pagerduty":
            if not self.routing_key:
                return "a pagerduty channel needs routing_key (the Events API v2 integration key)"
            if isinstance(self.url, list):
                return "a pagerduty channel takes one url (default: PagerDuty's Events API v2)"
        elif not urls:
            return "a channel needs a url"
        elif isinstance(self.url, list) and kind != "alertmanager":
            return "several urls are for kind alertmanager (an HA pair); other channels take one"
        for url in urls:
            if len(url) < 3:
                return f"not a URL: {url!r}"
            if kind in ONCALL_KINDS and not url.lower().startswith(("http://", "https://")):
                return f"a {kind} channel's url is http:// or https://, not {url.split('://', 1)[0]}://"
        if kind == "alertmanager" and self.resend is not None and self.resend < 10**9:
            return "resend: at least 1s (Prometheus re-sends every 1m)"
        return None


class OutboxConfig(_Strict):
    max_pending: int = Field(100_000, ge=10)
    max_attempts: int = Field(12, ge=1)
    initial_backoff: Duration = parse_duration("2s")
    max_backoff: Duration = parse_duration("5m")
    retention: Duration = parse_duration("7d")  # delivered rows older than this are pruned (dead letters stay)


class StateConfig(_Strict):
    """Where the alerting state several instances share lives: `local` (this host only: memory and SQLite) or
    `redis` (a fleet: windows, incident claims and counts, silences; logpipe/fleet/). Checkpoints and the outbox
    are always local."""

    backend: Literal["local", "redis"] = "local"
    url: str | None = Field(None, description="redis://[user:password@]host:port/db, rediss:// for TLS")
    prefix: str = Field("logpipe:", min_length=1, description="prepended to every key: one per deployment")
    instance: str | None = Field(None, min_length=1, description="this instance's name (default: host + state dir)")
    claim_ttl: Duration = parse_duration("1d")  # how long a sent notification's claim keeps others from resending

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db, rediss:// (TLS) or unix:///path.sock")
        return value


class MaintenanceConfig(_Strict):
    """A recurring maintenance window: notifications of the rules listed (all when empty) whose labels match are
    recorded, not sent, on `days` (every day when empty) from `start` for `duration`."""

    name: str = Field(min_length=1)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM in `timezone`")
    duration: Duration
    timezone: TimeZoneName = "UTC"
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = []
    rules: list[str] = []
    match: dict[str, str] = {}

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
    state: StateConfig = StateConfig.model_validate({})
    report: ReportConfig | None = None  # the daily digest

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
