"""Probes over TLS against a real HTTPS server on loopback whose certificate a private CA (trustme) signed: an
untrusted certificate is a `tls` error, told apart from a refusal or a timeout, and the probe's `ca_file` or
`insecure_skip_verify` makes the check pass; a container host rewritten to an address still checks the
certificate against the host's name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, Target, check, pool_for
from tests.healthserver import HealthState, health_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def https_server(ca: trustme.CA, *names: str) -> Any:
    context = trustme.ssl.create_default_context(trustme.ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return health_server(HealthState(), tls=context)


@pytest.fixture(scope="module")
def base(ca: trustme.CA) -> Iterator[str]:
    with https_server(ca, "localhost") as url:
        yield url


def run(probe: ProbeConfig, resolve: Any = None) -> dict[str, Any]:
    memory = ProbeMemory()
    event = check(probe, pool_for(probe), memory) if resolve is None else check(probe, pool_for(probe), memory, resolve)
    return dict(event.fields["probe"])


def probe(url: str, **options: Any) -> ProbeConfig:
    return ProbeConfig(url=url, interval="10s", timeout="3s", **options)


def test_a_certificate_no_trusted_ca_signed_is_a_tls_error(base: str) -> None:
    fields = run(probe(f"{base}/health"))
    assert (fields["ok"], fields["error"]) == (False, "tls")
    assert "certificate verify failed" in fields["detail"]
    assert "status" not in fields
    assert fields["duration_ms"] < 2000  # told at the handshake, not after the timeout


def test_the_probes_ca_file_makes_the_certificate_trusted(base: str, ca_file: str) -> None:
    fields = run(probe(f"{base}/health", ca_file=ca_file))
    assert (fields["ok"], fields["status"], fields["health"]) == (True, 200, "up")


def test_insecure_skip_verify_passes_without_checking_the_certificate(base: str) -> None:
    fields = run(probe(f"{base}/health", insecure_skip_verify=True))
    assert (fields["ok"], fields["status"]) == (True, 200)


def test_a_certificate_for_another_name_is_a_tls_error_even_from_a_trusted_ca(ca: trustme.CA, ca_file: str) -> None:
    with https_server(ca, "api.clipforge.app") as base:
        fields = run(probe(f"{base}/health", ca_file=ca_file))
    assert (fields["ok"], fields["error"]) == (False, "tls")
    assert "localhost" in fields["detail"]


def test_plain_http_spoken_to_a_tls_port_is_not_taken_for_a_refusal(base: str) -> None:
    fields = run(probe(base.replace("https://", "http://") + "/health"))
    assert (fields["ok"], fields["error"]) == (False, "connection")  # the server hung up on a failed handshake


def test_a_container_host_over_https_is_checked_against_its_name_not_its_address(ca: trustme.CA, ca_file: str) -> None:
    with https_server(ca, "clipforge-api") as base:
        port = base.rsplit(":", 1)[1]

        def to_loopback(url: str) -> Target:  # what probetargets.ContainerResolver makes of a container's address
            return Target(url.replace("clipforge-api", "127.0.0.1"), f"clipforge-api:{port}")

        fields = run(probe(f"https://clipforge-api:{port}/health", ca_file=ca_file), to_loopback)
    assert (fields["ok"], fields["status"], fields["url"]) == (True, 200, f"https://clipforge-api:{port}/health")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("url: 'http://api/health', ca_file: CA", "probes[0]: Value error, ca_file and insecure_skip_verify are for"),
        ("url: 'https://api/health', ca_file: /nope.pem", "probes[0].ca_file: Value error, no such file: '/nope.pem'"),
        ("url: 'https://api/health', ca_file: NOTPEM", "probes[0].ca_file: Value error, cannot read PEM certificates"),
        (
            "url: 'https://api/health', ca_file: CA, insecure_skip_verify: true",
            "probes[0]: Value error, ca_file has no effect with insecure_skip_verify",
        ),
    ],
)
def test_wrong_tls_options_are_refused_with_file_line_and_field(
    tmp_path: Path, ca_file: str, options: str, message: str
) -> None:
    from logpipe.config.load import load_config
    from logpipe.errors import ConfigError

    (tmp_path / "not.pem").write_text("hello\n")
    options = options.replace("CA", ca_file).replace("NOTPEM", str(tmp_path / "not.pem"))
    (tmp_path / "logpipe.yml").write_text(f"probes:\n  - {{{options}, interval: 30s}}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "logpipe.yml")
    assert str(caught.value).startswith(f"{tmp_path / 'logpipe.yml'}:2: {message}")


def test_logpipe_probe_takes_a_ca_file_or_insecure(base: str, ca_file: str) -> None:
    import orjson
    from click.testing import CliRunner

    from logpipe.cli import main

    untrusted = CliRunner().invoke(main, ["probe", f"{base}/health"])
    trusted = CliRunner().invoke(main, ["probe", f"{base}/health", "--ca-file", ca_file])
    insecure = CliRunner().invoke(main, ["probe", f"{base}/health", "--insecure"])
    assert (untrusted.exit_code, orjson.loads(untrusted.output)["fields"]["probe"]["error"]) == (1, "tls")
    assert (trusted.exit_code, insecure.exit_code) == (0, 0), trusted.output + insecure.output
    missing = CliRunner().invoke(main, ["probe", f"{base}/health", "--ca-file", "/nope.pem"])
    assert missing.exit_code == 2
    assert "Invalid value for --ca-file: Value error, no such file: '/nope.pem'" in missing.output
