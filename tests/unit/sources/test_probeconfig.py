"""`probes:` and `resources:` in logpipe.yml: a wrong probe is refused at start with file:line and field, and a
probe host named after a container is reached at that container's address (an unknown container's name is
refused against the real daemon: tests/docker/probes/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logpipe.config.load import load_config
from logpipe.errors import ConfigError
from logpipe.sources.probes.http import ContainerAddressError
from logpipe.sources.probes.targets import container_target


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "logpipe.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).replace(str(tmp_path), "")


def test_a_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "logpipe.yml"
    path.write_text(
        "probes:\n  - {name: api, url: 'http://clipforge-api:3000/health', interval: 30s}\n"
        "resources: {interval: 10s, disk_paths: [/var/lib/docker]}\n"
    )
    config = load_config(path)
    (api,) = config.probes
    assert (api.label, api.interval, api.timeout, api.method, api.expect_status) == ("api", 30e9, 5e9, "GET", [])
    assert (config.resources.interval, config.resources.disk_paths) == (10e9, ["/var/lib/docker"])


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ("{url: 'ftp://x/health', interval: 30s}", "/logpipe.yml:3: probes[1].url: Value error, expected an http"),
        ("{url: 'http:///health', interval: 30s}", "/logpipe.yml:3: probes[1].url: Value error, the URL has no host"),
        ("{url: 'http://api/health'}", "/logpipe.yml:3: probes[1].interval: Field required"),
        ("{url: 'http://api/health', interval: 30}", "/logpipe.yml:3: probes[1].interval: Value error, expected a"),
        ("{url: 'http://api/h', interval: 5s, timeout: 10s}", "/logpipe.yml:3: probes[1]: Value error, timeout is"),
        ("{url: 'http://api/h', interval: 5s, expect_status: [700]}", "/logpipe.yml:3: probes[1].expect_status"),
        ("{url: 'http://api/h', interval: 5s, retries: 3}", "/logpipe.yml:3: probes[1].retries: unknown key"),
    ],
)
def test_a_wrong_probe_is_refused_with_file_line_and_field(tmp_path: Path, probe: str, message: str) -> None:
    text = f"probes:\n  - {{url: 'http://ok/health', interval: 30s}}\n  - {probe}\n"
    assert refused(tmp_path, text).startswith(message)


def test_two_probes_with_one_name_are_refused(tmp_path: Path) -> None:
    text = "probes:\n  - {url: 'http://api/health', interval: 5s}\n  - {url: 'http://api/health', interval: 9s}\n"
    assert refused(tmp_path, text) == (
        "/logpipe.yml:1: probes: Value error, two probes are named 'api/health'; give them distinct `name`s"
    )


def inspected(networks: dict[str, Any], ports: dict[str, Any], running: bool = True) -> dict[str, Any]:
    return {"State": {"Running": running}, "NetworkSettings": {"Networks": networks, "Ports": ports}}


def test_a_container_host_is_reached_at_its_address_else_its_published_port() -> None:
    url = "http://clipforge-api:3000/health?full=1"
    on_network = container_target(url, inspected({"clipforge_default": {"IPAddress": "172.18.0.5"}}, {}))
    assert (on_network.url, on_network.host_header) == ("http://172.18.0.5:3000/health?full=1", "clipforge-api:3000")
    published = inspected({"none": {"IPAddress": ""}}, {"3000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]})
    assert container_target(url, published).url == "http://127.0.0.1:8080/health?full=1"
    with pytest.raises(ContainerAddressError, match="has no network address and does not publish port 3000"):
        container_target(url, inspected({"none": {"IPAddress": ""}}, {}))
    with pytest.raises(ContainerAddressError, match="is not running"):
        container_target(url, inspected({}, {}, running=False))
