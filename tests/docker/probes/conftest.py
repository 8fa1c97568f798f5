"""Probes and resource readings inside a real `logpipe follow`: the pack's rules with short windows, the alerts it
prints (--format jsonl) read back, and its /metrics."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import unavailable
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]


def short_rules(tmp_path: Path, pack_file: str, windows: dict[str, dict[str, Any]]) -> Path:
    """The pack's rules named in `windows`, with those settings replaced (shorter windows, evaluated every
    second): conditions, values, thresholds and examples are the pack's own."""
    document = yaml.safe_load((ROOT / "rules" / pack_file).read_text())
    # `inhibits:` names rules of other files, which a subset does not load (tests/rules/test_folding.py has them)
    rules = [
        {**{key: value for key, value in rule.items() if key != "inhibits"}, **windows[rule["id"]]}
        for rule in document["rules"]
        if rule["id"] in windows
    ]
    assert {rule["id"] for rule in rules} == set(windows)
    path = tmp_path / f"short-{pack_file}"
    path.write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    return path


class Follower:
    """A `logpipe follow` process: alerts (JSON lines) in alerts.jsonl, logpipe's log in follow.stderr."""

    def __init__(self, tmp_path: Path, names: list[str], config: str, rules: list[Path]) -> None:
        (tmp_path / "logpipe.yml").write_text(config)
        self.alerts_path, self.log = tmp_path / "alerts.jsonl", tmp_path / "follow.stderr"
        self.events_path = tmp_path / "events.jsonl"
        command = [sys.executable, "-m", "logpipe", "follow", *names, "--config", str(tmp_path / "logpipe.yml")]
        for path in rules:
            command += ["--rules", str(path)]
        command += ["--since", "now", "--format", "jsonl", "--no-view", "--metrics-address", "127.0.0.1:0"]
        command += ["--events-out", str(self.events_path)]
        self.process = subprocess.Popen(
            command,
            stdout=self.alerts_path.open("wb"),
            stderr=self.log.open("wb"),
            start_new_session=True,
            cwd=tmp_path,
            env={**os.environ, "LOGPIPE_LOG_LEVEL": "info"},
        )
        self.metrics_url = self._metrics_url()

    def _metrics_url(self) -> str:
        def served() -> str:
            assert self.process.poll() is None, self.log.read_text()
            found = re.search(r"metrics and health on (http://\S+/metrics)", self.log.read_text())
            return found.group(1) if found else ""

        return str(wait_until(served, what=lambda: f"the metrics address in logpipe's log: {self.log.read_text()}"))

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.alerts_path.read_text().splitlines() if line.strip()]

    def wait_for(self, rule: str, status: str, severity: str | None = None, **group: str) -> dict[str, Any]:
        """The first alert of `rule` with `status` (and the severity and group values given)."""

        def found() -> dict[str, Any] | None:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            for alert in self.alerts():
                if (
                    alert["rule"] == rule
                    and alert["status"] == status
                    and severity in (None, alert["severity"])
                    and group.items() <= alert["group"].items()
                ):
                    return alert
            return None

        def seen() -> str:
            return json.dumps([(a["rule"], a["status"], a["severity"], a["group"]) for a in self.alerts()])

        return wait_until(found, what=lambda: f"{status} {rule} {group}; alerts: {seen()}")  # type: ignore[no-any-return]

    def wait_for_gauge(self, name: str, **labels: str) -> float:
        """The gauge's value once /metrics has it (the first reading is in)."""

        def read() -> float | None:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            return self.gauge(name, **labels)

        wait_until(lambda: read() is not None, what=lambda: f"{name} {labels}: {self.log.read_text()[-3000:]}")
        value = self.gauge(name, **labels)
        assert value is not None
        return value

    def quiet_over(self, logger: str, count: int) -> None:
        """`count` more events of `logger` (readings, checks) handled, and no alert: a quiet stretch measured in
        what logpipe read, not in seconds (each reading is handled, and any alert printed, before --events-out
        has it)."""
        before = len(self.events(logger))
        wait_until(lambda: len(self.events(logger)) >= before + count, what=f"{count} more {logger} events")
        assert self.alerts() == []

    def events(self, logger: str) -> list[dict[str, Any]]:
        """The events of one logger that --events-out holds (written at each checkpoint save)."""
        lines = self.events_path.read_text().splitlines() if self.events_path.exists() else []
        return [event for line in lines if (event := json.loads(line)).get("logger") == logger]

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as response:
            return str(response.read().decode())

    def gauge(self, name: str, **labels: str) -> float | None:
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))  # as prometheus prints them
        for line in self.metrics().splitlines():
            if line.startswith(f"{name}{{{wanted}}} "):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        stderr = self.log.read_text()
        assert self.process.returncode == 0, stderr[-3000:]
        return json.loads(stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[Callable[..., Follower]]:
    started: list[Follower] = []

    def start(names: list[str], config: str, rules: list[Path]) -> Follower:
        started.append(Follower(tmp_path, names, config, rules))
        return started[-1]

    yield start
    for each in started:
        if each.process.poll() is None:
            os.killpg(each.process.pid, signal.SIGKILL)
            each.process.wait(timeout=30)


CLIPFORGE_HEALTH = (
    '{"status":"ok","timestamp":"2026-11-30T10:00:00.000Z","uptime":3600,'
    '"database":{"status":"ok"},"redis":{"status":"ok"},"storage":{"status":"ok"}}'
)


@pytest.fixture(scope="session")
def bridge_network(docker_client: Any) -> Iterator[Any]:
    """A user-defined bridge network: the test daemon runs with --bridge=none, but a network created on it still
    gets a bridge whose gateway address is the host's, so the host reaches its containers at their addresses."""
    import docker.errors

    try:
        network = docker_client.networks.create(f"lp-test-{uuid.uuid4().hex[:8]}", driver="bridge")
    except docker.errors.APIError as error:
        unavailable(f"cannot create a bridge network on the test daemon: {error}")
        raise
    try:
        yield network
    finally:
        import warnings

        import requests

        try:
            network.remove()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            # the daemon is away (a test elsewhere restarts it): the network outlives the session, say which
            warnings.warn(f"bridge network {network.name} left behind: {error}", stacklevel=1)


@pytest.fixture
def web_container(container: Callable[..., Any], bridge_network: Any) -> Callable[[], Any]:
    """A busybox httpd on port 3000 of the bridge network, serving ClipForge's health JSON at /health (written at
    each start of the container, so it serves again after a restart); removed after the test, by id."""
    script = f"mkdir -p /www && echo '{CLIPFORGE_HEALTH}' > /www/health && exec httpd -f -p 3000 -h /www"
    return lambda: container(script, name=f"lp-web-{uuid.uuid4().hex[:8]}", network=bridge_network.name)
