"""logpipe.yml: where state lives, which rules run, and where alerts go. Errors name file, line and field.

    state_dir: /var/lib/logpipe
    rules:                                # rule sources in order; default: the shipped ClipForge pack alone
      - pack: clipforge                   #   the pack, then the user's files on top of it: new rules,
      - rules.d/                          #   `overrides:` of the pack's settings, `replace: true` (engine/layers.py)
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
    probes: [...]                         # health checks; resources: container stats, disk (sources/probes/config.py)
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
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from logpipe.config.durations import parse_duration
from logpipe.config.fields import Duration, TimeZoneName
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.report.schedule import ReportConfig
from logpipe.sources.probes.config import Probes, ResourcesConfig


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
            if not readable_url(url):
                return UNREADABLE_URL
            if kind in ONCALL_KINDS and not url.lower().startswith(("http://", "https://")):
                return f"a {kind} channel's url is http:// or https://, not {url.split('://', 1)[0]}://"
        if kind == "alertmanager" and self.resend is not None and self.resend < 10**9:
            return "resend: at least 1s (Prometheus re-sends every 1m)"
        return None


# says nothing of the URL itself: it may carry a password or a webhook's token
UNREADABLE_URL = "not a URL logpipe can read: its host or port (an IPv6 address goes in [brackets], a port is digits)"


def readable_url(url: str) -> bool:
    """Whether the URL's host and port can be read (urllib raises ValueError where the sinks and the Redis
    client would, later, with a traceback)."""
    try:
        _ = urlsplit(url).port
    except ValueError:
        return False
    return True


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
    # a connect or one read of Redis slower than this is a timeout, a whole call twice as long; a claim that timed
    # out is asked again for up to 10 s before its notification goes out alone (one page under latency): set it
    # above Redis's worst latency from this host
    timeout: Duration = parse_duration("1s")

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db, rediss:// (TLS) or unix:///path.sock")
        if value is not None and not readable_url(value):
            raise ValueError(UNREADABLE_URL)
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        # the follower's loop waits on each call: past a minute, alerting itself would stall on a slow Redis
        if not parse_duration("10ms") <= value <= parse_duration("1m"):
            raise ValueError("expected a timeout from 10ms to 1m")
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
    probes: Probes = []  # HTTP health checks (sources/probes/config.py)
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
