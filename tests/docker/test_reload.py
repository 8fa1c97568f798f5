"""`logpipe reload` against a running `logpipe follow`: it waits for the follower's answer and its exit code says
it (1 with each problem's file:line when refused), and the outcome is on /metrics (logpipe_reload_success,
logpipe_reload_last_success_timestamp_seconds, as Prometheus has for its own config) and /health."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.docker.test_follow import follow, logged
from tests.docker.test_prometheus import prometheus  # noqa: F401 - the fixture
from tests.integration.receivers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

RULE = """rules:
  - id: {id}
    title: {id} happened
    severity: warning
    runbook: none
    match: {{message: {{contains: {id}}}}}
    examples: {{match: ['{id}']}}
"""


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """A reload does not depend on how the log is read: once."""
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto")
    return "json-file"


def reload(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logpipe", "reload", "--config", str(tmp_path / "logpipe.yml")],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip


def scrape(port: int) -> dict[str, float]:
    """The unlabelled samples of /metrics, by name."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {parts[0]: float(parts[1]) for parts in samples if len(parts) == 2}


def health(port: int) -> dict[str, Any]:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
    except urllib.error.HTTPError as error:  # 503 when degraded, with the same body
        body = error.read()
    return json.loads(body)  # type: ignore[no-any-return]


def test_a_refused_reload_exits_1_with_its_problems_and_shows_on_metrics_and_health(
    tmp_path: Path, docker_client: Any
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "boom.yml").write_text(RULE.format(id="boom"))
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    port = free_port()
    # a name no container has: the follower waits for it, which is all a reload needs
    follower = follow(
        tmp_path, f"lp-reload-{uuid.uuid4().hex[:8]}", "events.jsonl", "--metrics-address", f"127.0.0.1:{port}",
        until_exit=False,
    )  # fmt: skip
    try:
        logged(follower, "metrics and health on")
        started = scrape(port)
        assert started["logpipe_reload_success"] == 1.0
        assert health(port)["last_reload"] is None

        (rules / "broken.yml").write_text("rules:\n  - id: broken\n    title: x\n    match: {message: {regex: '('}}\n")
        refused = reload(tmp_path)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "reload refused" in refused.stderr
        assert f"{rules / 'broken.yml'}:" in refused.stderr  # each problem with its file:line
        after = scrape(port)
        assert after["logpipe_reload_success"] == 0.0
        assert (
            after["logpipe_reload_last_success_timestamp_seconds"]
            == started["logpipe_reload_last_success_timestamp_seconds"]
        )
        told = health(port)
        assert (told["status"], told["last_reload"]["outcome"]) == ("degraded", "refused")
        assert f"{rules / 'broken.yml'}:" in told["problems"]["reload"]

        (rules / "broken.yml").write_text(RULE.format(id="bang"))
        taken = reload(tmp_path)
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert "reloaded: 2 rules" in taken.stdout
        again = scrape(port)
        assert again["logpipe_reload_success"] == 1.0
        assert (
            again["logpipe_reload_last_success_timestamp_seconds"]
            > started["logpipe_reload_last_success_timestamp_seconds"]
        )
        told = health(port)
        assert (told["status"], told["problems"], told["last_reload"]["outcome"]) == ("ok", {}, "taken")
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)


def test_reload_says_what_it_waits_for_and_fails_when_no_answer_comes(tmp_path: Path) -> None:
    """A follower that never answers (here a process that ignores SIGHUP, holding the state directory's lock and
    named in its pid file, as `logpipe reload` asks of a follower): after 2 s the command says what it is waiting
    for, and at its timeout it exits 1 saying so."""
    (tmp_path / "logpipe.yml").write_text("state_dir: state\n")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    code = (
        "import signal, sys; from pathlib import Path; from logpipe.state.directory import DirectoryLock, "
        "write_pid_file; lock = DirectoryLock(Path(sys.argv[1])); write_pid_file(Path(sys.argv[1]) / 'follow.pid');"
        " signal.signal(signal.SIGHUP, signal.SIG_IGN); print('up', flush=True); sys.stdin.read()"
    )
    deaf = subprocess.Popen(
        [sys.executable, "-c", code, str(state), "follow"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert deaf.stdout is not None
        assert deaf.stdout.readline() == b"up\n"
        waited = subprocess.run(
            [sys.executable, "-m", "logpipe", "reload", "--config", str(tmp_path / "logpipe.yml"), "--timeout", "3s"],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        )  # fmt: skip
    finally:
        deaf.kill()
        deaf.wait(timeout=10)
    assert waited.returncode == 1
    assert f"waiting for logpipe follow (pid {deaf.pid}) to answer the reload" in waited.stderr
    assert f"logpipe follow (pid {deaf.pid}) did not answer the reload within 3 s" in waited.stderr
    wait_until(lambda: deaf.poll() is not None, 10, "the stand-in follower gone")


def test_a_refused_reload_fires_logpipes_own_alert_in_a_real_prometheus(
    tmp_path: Path,
    docker_client: Any,
    prometheus: str,  # noqa: F811
) -> None:
    """deploy/prometheus/logpipe-rules.yml's LogpipeReloadFailed (`logpipe_reload_success == 0`) in Debian's
    Prometheus scraping the follower: firing after a refused reload, gone after one taken."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "boom.yml").write_text(RULE.format(id="boom"))
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    metrics_port, prometheus_port = free_port(), free_port()
    follower = follow(
        tmp_path, f"lp-reload-{uuid.uuid4().hex[:8]}", "events.jsonl", "--metrics-address",
        f"127.0.0.1:{metrics_port}", until_exit=False,
    )  # fmt: skip
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{ROOT / 'deploy' / 'prometheus' / 'logpipe-rules.yml'}']\n"
        f"scrape_configs:\n  - job_name: logpipe\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    server = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        stdout=(tmp_path / "prometheus.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def firing() -> list[str]:
        assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
        try:
            answer = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{prometheus_port}/api/v1/alerts").read())
        except OSError:
            return []
        return [a["labels"]["alertname"] for a in answer["data"]["alerts"] if a["state"] == "firing"]

    def scraped_success() -> float | None:
        query = urllib.parse.urlencode({"query": "logpipe_reload_success"})
        try:
            answer = json.loads(
                urllib.request.urlopen(f"http://127.0.0.1:{prometheus_port}/api/v1/query?{query}").read()
            )
        except OSError:
            return None
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    try:
        logged(follower, "metrics and health on")
        wait_until(lambda: scraped_success() == 1.0, 60, "Prometheus scraping logpipe_reload_success 1")
        assert "LogpipeReloadFailed" not in firing()
        (rules / "broken.yml").write_text("rules:\n  - id: broken\n    title: x\n    match: {message: {regex: '('}}\n")
        assert reload(tmp_path).returncode == 1
        wait_until(lambda: "LogpipeReloadFailed" in firing(), 60, lambda: f"firing: {firing()}")
        (rules / "broken.yml").unlink()
        assert reload(tmp_path).returncode == 0
        wait_until(lambda: "LogpipeReloadFailed" not in firing(), 60, lambda: f"firing: {firing()}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)
