"""Where a probe connects: its URL as written, or, when its host is a container's name (as Compose configs read:
`http://clipforge-api:3000/health`), that container's address, found through Docker at each check (a recreated
container has a new address). Checked once at start, so a host that is neither a resolvable name nor a container
is refused with the config's file and line."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.errors import ConfigError, Location, RuleError
from logpipe.sources.docker.reader import find_container
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ContainerAddressError, Resolver, Target, direct


def container_target(url: str, info: dict[str, Any]) -> Target:
    """The URL rewritten to reach the container `info` (docker inspect) describes: its own address on one of its
    networks at the URL's port, else the host port the URL's port is published on. The Host header keeps the
    name the URL used."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = parts.hostname or ""
    if not (info.get("State") or {}).get("Running"):
        raise ContainerAddressError(f"container {name} is not running")
    settings = info.get("NetworkSettings") or {}
    for network in (settings.get("Networks") or {}).values():
        address = (network or {}).get("IPAddress")
        if address:
            return Target(_with_host(parts, address, port), parts.netloc.rpartition("@")[2])
    for binding in (settings.get("Ports") or {}).get(f"{port}/tcp") or ():
        host_ip = binding.get("HostIp") or ""
        if host_ip in ("", "0.0.0.0", "::"):  # published on every interface: loopback reaches it
            host_ip = "127.0.0.1"
        return Target(_with_host(parts, host_ip, int(binding["HostPort"])), parts.netloc.rpartition("@")[2])
    raise ContainerAddressError(f"container {name} has no network address and does not publish port {port}")


def _with_host(parts: urllib.parse.SplitResult, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{shown}:{port}" if userinfo else f"{shown}:{port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class ContainerResolver:
    """A Resolver for a probe whose host is a container's name: inspects the container at each check."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, url: str) -> Target:
        import docker.errors

        name = urllib.parse.urlsplit(url).hostname or ""
        try:
            info = find_container(self.client, name)
        except (docker.errors.DockerException, OSError) as error:
            raise ContainerAddressError(f"cannot ask Docker for container {name}: {error}") from None
        if info is None:
            raise ContainerAddressError(f"no container named {name}")
        return container_target(url, info)


def resolves(host: str) -> bool:
    """Whether the host is an address, or a name the system resolver knows."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, None)
        return True
    except (socket.gaierror, UnicodeError):
        return False


def resolvers(probes: Sequence[ProbeConfig], client: Any, config_path: Path | None) -> list[Resolver]:
    """How each probe finds its host, decided at start. A host that does not resolve is taken for a container's
    name; when Docker answers that it has no such container, the probe is refused with file:line (when Docker
    cannot be asked, checks report the problem as events until it can)."""
    import docker.errors

    chosen: list[Resolver] = []
    for index, probe in enumerate(probes):
        host = urllib.parse.urlsplit(probe.url).hostname or ""
        if resolves(host):
            chosen.append(direct)
            continue
        try:
            known = client is not None and find_container(client, host) is not None
            asked = client is not None
        except (docker.errors.DockerException, OSError):
            known, asked = False, False
        if asked and not known:
            raise ConfigError(
                probe_location(config_path, index, "url"),
                f"host {host!r} is neither a name this host resolves nor a container Docker knows",
            )
        chosen.append(ContainerResolver(client))
    return chosen


def probe_location(config_path: Path | None, index: int, key: str) -> Location:
    """file:line and field of probes[index].key in the config, for an error found after loading it."""
    path: tuple[str | int, ...] = ("probes", index, key)
    if config_path is None:
        return Location("<command line>", None, dotted(path))
    try:
        document = load_yaml(config_path)
    except RuleError:
        document = None
    return Location(str(config_path), line_of(document, path), dotted(path))
