"""One probe check against a real HTTP server on loopback: what the event says for each way an endpoint answers
or fails (status, body, components from both health formats, timeout, refusal, DNS), and the URL redaction."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from logpipe.event import Event
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, check, redact_url
from tests.healthserver import HealthState, health_server


@pytest.fixture
def server() -> Iterator[tuple[str, HealthState]]:
    state = HealthState()
    with health_server(state) as base:
        yield base, state


def probe(url: str, **options: Any) -> ProbeConfig:
    return ProbeConfig(url=url, interval="10s", **{"timeout": "2s", **options})


def run(config: ProbeConfig, memory: ProbeMemory | None = None) -> tuple[Event, dict[str, Any]]:
    event = check(config, urllib3.PoolManager(), memory or ProbeMemory())
    return event, dict(event.fields["probe"])


def test_a_healthy_clipforge_body_is_ok_with_every_component_up(server: tuple[str, HealthState]) -> None:
    base, _ = server
    event, fields = run(probe(f"{base}/health", name="api"))
    assert (event.logger, event.level, event.origin.name) == ("probe", "info", "api")
    assert (fields["ok"], fields["status"], fields["consecutive_failures"]) == (True, 200, 0)
    assert fields["components"] == {"database": "up", "redis": "up", "storage": "up"}
    assert (fields["components_down"], fields["health"], fields["uptime"]) == (0, "up", 3600.0)
    assert fields["body"]["database"] == {"status": "ok"}
    assert "error" not in fields
    assert 0 < fields["duration_ms"] < 2000


def test_terminus_database_down_is_a_503_with_the_component_down(server: tuple[str, HealthState]) -> None:
    base, state = server
    state.database_up = False
    _, fields = run(probe(f"{base}/health/db", name="db"))
    assert (fields["ok"], fields["status"], fields["error"], fields["detail"]) == (False, 503, "status", "HTTP 503")
    assert fields["components"] == {"database": "down"}
    _, accepted = run(probe(f"{base}/health/db", name="db", expect_status=[200, 503]))
    assert (accepted["ok"], accepted["components"]) == (True, {"database": "down"})


def test_a_body_condition_that_fails_names_the_path(server: tuple[str, HealthState]) -> None:
    base, state = server
    state.database_up = False
    event, fields = run(probe(f"{base}/health", body={"database.status": "ok"}))
    assert (fields["ok"], fields["error"]) == (False, "body")
    assert fields["detail"] == "body database.status is 'error', expected 'ok'"
    assert event.level == "error"


def test_a_hung_endpoint_is_a_timeout_after_the_timeout(server: tuple[str, HealthState]) -> None:
    base, state = server
    state.delay = 1.5
    memory = ProbeMemory()
    _, first = run(probe(f"{base}/health", timeout="300ms"), memory)
    _, second = run(probe(f"{base}/health", timeout="300ms"), memory)
    assert (first["ok"], first["error"], second["consecutive_failures"]) == (False, "timeout", 2)
    assert 250 <= first["duration_ms"] < 1200


def test_refused_and_dns_failures_are_told_apart() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        _, refused = run(probe(f"http://127.0.0.1:{port}/health"))
    _, dns = run(probe("http://no-such-host.invalid/health"))
    assert (refused["ok"], refused["error"]) == (False, "refused")
    assert (dns["ok"], dns["error"]) == (False, "dns")
    assert "status" not in refused


def test_uptime_going_down_marks_a_restart(server: tuple[str, HealthState]) -> None:
    base, state = server
    memory = ProbeMemory()
    config = probe(f"{base}/health")
    _, before = run(config, memory)
    state.uptime = 5
    _, after = run(config, memory)
    _, later = run(config, memory)
    assert (before["restarted"], after["restarted"], later["restarted"]) == (False, True, False)


def test_credentials_and_secret_query_values_are_redacted_in_the_event() -> None:
    assert redact_url("https://ops:hunter2@api.example.com/health?token=abc&verbose=1") == (
        "https://ops:***@api.example.com/health?token=***&verbose=1"
    )
    assert redact_url("http://clipforge-api:3000/health") == "http://clipforge-api:3000/health"
    _, fields = run(probe("http://ops:hunter2@no-such-host.invalid/health"))
    assert fields["url"] == "http://ops:***@no-such-host.invalid/health"
    assert "hunter2" not in str(fields)
