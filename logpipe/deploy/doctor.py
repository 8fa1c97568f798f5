"""`logpipe doctor`: every check a deployment needs before its first alert, each failure with its fix.

Each check is a function of the config returning `Check`s; none raises (a check that cannot run is a failed
check saying why). Network checks are a dry run (DNS, TCP connect, TLS handshake) unless the caller sends.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from logpipe.config.load import dsn_problem
from logpipe.config.settings import Config
from logpipe.engine.loading import load_rules
from logpipe.engine.rules import RuleLoadError
from logpipe.render.renderer import sample_payload
from logpipe.sinks.wiring import renderer_for
from logpipe.times import parse_docker_time

MIN_FREE_BYTES = 100 * 1024 * 1024  # the outbox and checkpoints stay small; under this a burst could fill it
MAX_CLOCK_SKEW_S = 2.0  # windows and "since" are computed from Docker's timestamps and our clock together
NETWORK_TIMEOUT_S = 5.0
# default ports of the Apprise email schemes when the URL names none (mailtos: STARTTLS on submission)
MAIL_PORTS = {"mailto": 25, "mailtos": 587}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def docker_checks(client_factory: Callable[[], Any]) -> Iterator[Check]:
    """Docker reachable; each running container's log readable (json-file here, or the API); clock skew."""
    try:
        client = client_factory()
        client.ping()
        info = client.info()
    except Exception as error:  # the docker SDK raises anything from DockerException to OSError here
        yield Check(
            "Docker reachable",
            False,
            f"{type(error).__name__}: {error}",
            "start dockerd; add this user to the docker group (usermod -aG docker USER), or set DOCKER_HOST",
        )
        return
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    yield Check("Docker reachable", True, f"Docker {info.get('ServerVersion', '?')} at {where}")
    yield from _container_logs(client)
    yield clock_skew(info.get("SystemTime", ""), time.time())


def _container_logs(client: Any) -> Iterator[Check]:
    from logpipe.sources.docker.jsonfile import readable_log_file

    containers = client.api.containers()
    if not containers:
        yield Check("container logs", True, "no running containers (nothing to read yet)")
        return
    for summary in containers:
        info = client.api.inspect_container(summary["Id"])
        name = info["Name"].lstrip("/")
        driver = ((info.get("HostConfig") or {}).get("LogConfig") or {}).get("Type", "?")
        if driver == "none":
            yield Check(
                f"logs of {name}",
                False,
                "log driver none: Docker keeps no log to read",
                "run it with the json-file or local log driver (logging: {driver: json-file} in Compose)",
            )
        elif readable_log_file(info):
            yield Check(f"logs of {name}", True, f"json-file read directly ({info['LogPath']})")
        else:
            yield Check(f"logs of {name}", True, f"{driver} log read through the Engine API (fallback)")


def clock_skew(daemon_time: str, now: float, limit: float = MAX_CLOCK_SKEW_S) -> Check:
    at = parse_docker_time(daemon_time)
    if at is None:
        return Check("clock skew", False, f"the daemon's SystemTime {daemon_time!r} is not a time", "upgrade Docker")
    skew = now - at / 1e9
    detail = f"{skew:+.3f} s against the Docker daemon"
    if abs(skew) > limit:
        return Check("clock skew", False, detail + f" (over {limit} s)", "run NTP (systemd-timesyncd, chrony)")
    return Check("clock skew", True, detail)


def state_dir_check(state_dir: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    name = "state directory"
    fix = f"create {state_dir} writable by this user (chown), or set state_dir / LOGPIPE_STATE_DIR"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
        free = shutil.disk_usage(state_dir).free
    except OSError as error:
        return Check(name, False, f"{state_dir} is not writable: {error.strerror or error}", fix)
    detail = f"{state_dir} writable, {free / 2**20:,.0f} MiB free"
    if free < min_free:
        return Check(name, False, detail + f" (under {min_free / 2**20:,.0f} MiB)", "free space, or move state_dir")
    return Check(name, True, detail)


def rules_check(config: Config) -> Iterator[Check]:
    try:
        ruleset = load_rules(config.rules or None)
    except RuleLoadError as error:
        listed = "; ".join(str(e) for e in error.errors)
        yield Check("rules", False, f"{len(error.errors)} problem(s): {listed}", "fix them: logpipe rules check")
    else:
        where = ", ".join(str(p) for p in config.rules) or "the shipped ClipForge pack"
        scanner = {"re2": "one RE2 set (hyperscan is not installed)"}.get(ruleset.prefilter.scanner, "hyperscan")
        yield Check(
            "rules", True, f"{len(ruleset.rules)} rules from {where}, their templates render; prefilter: {scanner}"
        )
    problems = renderer_for(config).check(None, sample_payload())
    if problems:
        yield Check("templates", False, "; ".join(problems), "fix the templates in: " + _dirs(config.templates))
    else:
        yield Check("templates", True, "every notification kind renders a sample alert")


def _dirs(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths) or "(the defaults)"


def channel_check(name: str, url: str) -> Check:
    """A dry run: DNS, TCP connect and, for https, a TLS handshake with certificate checks."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        port, tls = parts.port or (443 if scheme == "https" else 80), scheme == "https"
    elif scheme in MAIL_PORTS:
        port, tls = parts.port or MAIL_PORTS[scheme], False
    else:
        return Check(f"channel {name}", True, f"{scheme}:// not probed (Apprise service); logpipe doctor --send tries")
    if not parts.hostname:
        return Check(f"channel {name}", False, f"no host in {scheme}:// URL", "give the channel's full URL")
    return _reach(f"channel {name}", parts.hostname, port, tls, f"check channels.{name}.url and the firewall")


def sentry_check(dsn: str | None) -> Check:
    if not dsn:
        return Check("Sentry", True, "not configured (no sentry.dsn, no SENTRY_DSN)")
    if dsn_problem(dsn) is not None:  # the rule the config's loader and the Sentry sink apply
        return Check(
            "Sentry",
            False,
            "the DSN is not https://KEY@HOST/PROJECT_ID",
            "copy the DSN from the project's Client Keys page into sentry.dsn or SENTRY_DSN",
        )
    parts = urlsplit(dsn)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _reach(
        "Sentry", parts.hostname or "", port, parts.scheme == "https", "check the DSN's host and the firewall"
    )


def _reach(name: str, host: str, port: int, tls: bool, fix: str) -> Check:
    try:
        address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4]
    except socket.gaierror as error:
        return Check(name, False, f"DNS: {host} does not resolve ({error.strerror})", fix)
    try:
        with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S) as connection:
            if tls:
                with ssl.create_default_context().wrap_socket(connection, server_hostname=host) as secured:
                    return Check(name, True, f"{host}:{port} ({address[0]}) TLS {secured.version()}")
    except ssl.SSLError as error:
        return Check(name, False, f"TLS with {host}:{port}: {error.reason or error}", fix)
    except OSError as error:
        return Check(name, False, f"TCP {host}:{port} ({address[0]}): {error.strerror or error}", fix)
    return Check(name, True, f"{host}:{port} ({address[0]}) accepts connections")
