"""The `probes:` and `resources:` sections of logpipe.yml: HTTP health checks and container/disk readings.

    probes:
      - name: api                               # default: the URL's host and path
        url: http://clipforge-api:3000/health   # a host named after a container resolves through Docker
        interval: 30s                           # required: how often
        timeout: 5s                             # default 5s (and never more than the interval)
        method: GET                             # or HEAD
        expect_status: [200]                    # default: any 2xx
        body:                                   # optional: dotted path in the JSON body -> expected value
          status: ok
        ca_file: /etc/logpipe/clipforge-ca.pem  # https: trust these PEM certificates instead of the system's
        insecure_skip_verify: false             # https: no certificate check at all
    resources:
      interval: 15s                             # container stats and disk usage readings (default 15s)
      containers: true                          # stats of every followed container
      disk: true                                # usage of the disk_paths' file systems
      disk_paths: [/var/lib/docker, /srv/clipforge/uploads]   # default: Docker's data root

Validation errors name file, line and field through config.load_config, like every other section.
"""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from logpipe.config.durations import parse_duration
from logpipe.config.fields import Duration

DEFAULT_TIMEOUT = parse_duration("5s")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbeConfig(_Strict):
    name: str = Field("", max_length=80)
    url: str = Field(min_length=1)
    interval: Duration
    timeout: Duration = DEFAULT_TIMEOUT
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: list[int] = Field([], description="statuses that count as up; default: any 2xx")
    body: dict[str, Any] = Field({}, description="dotted path in the JSON body -> the value it must have")
    # the names are Blackbox exporter's (tls_config), which ClipForge's plan cites
    ca_file: str = Field("", description="https: PEM certificates to trust instead of the system's")
    insecure_skip_verify: bool = Field(False, description="https: skip the certificate check")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"the URL has no host: {url!r}")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"the URL's port is not a number: {url!r}") from None
        return url

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        for status in statuses:
            if not 100 <= status <= 599:
                raise ValueError(f"{status} is not an HTTP status")
        return statuses

    @field_validator("ca_file")
    @classmethod
    def _loadable_certificates(cls, path: str) -> str:
        if not path:
            return path
        try:  # read now: a missing or unreadable bundle is a config error at start, not a TLS error every check
            ssl.create_default_context(cafile=path)
        except FileNotFoundError:
            raise ValueError(f"no such file: {path!r}") from None
        except (ssl.SSLError, OSError) as error:
            raise ValueError(f"cannot read PEM certificates from {path!r}: {error}") from None
        return path

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> ProbeConfig:
        if self.timeout > self.interval:
            raise ValueError("timeout is longer than the interval: checks would pile up")
        return self

    @model_validator(mode="after")
    def _tls_options_for_https(self) -> ProbeConfig:
        if (self.ca_file or self.insecure_skip_verify) and urllib.parse.urlsplit(self.url).scheme != "https":
            raise ValueError("ca_file and insecure_skip_verify are for https:// URLs")
        if self.ca_file and self.insecure_skip_verify:
            raise ValueError("ca_file has no effect with insecure_skip_verify: give one of them")
        return self

    @property
    def label(self) -> str:
        """The probe's name: given, or host and path of its URL."""
        if self.name:
            return self.name
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.hostname}{parts.path or '/'}"


class ResourcesConfig(_Strict):
    interval: Duration = parse_duration("15s")
    containers: bool = True
    disk: bool = True
    disk_paths: list[str] = Field([], description="host paths whose file system usage is read (default: Docker's)")


def _names_unique(probes: list[ProbeConfig]) -> list[ProbeConfig]:
    seen: set[str] = set()
    for probe in probes:
        if probe.label in seen:  # their events, metrics and alerts would mix
            raise ValueError(f"two probes are named {probe.label!r}; give them distinct `name`s")
        seen.add(probe.label)
    return probes


Probes = Annotated[list[ProbeConfig], AfterValidator(_names_unique)]
