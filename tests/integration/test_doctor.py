"""`logpipe doctor` against the real Docker daemon and real receivers: a good config passes every check; each
broken item fails with its fix, and the exit status is 1. `logpipe init` writes what it finds running."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from logpipe.cli import main
from logpipe.config.load import load_config
from tests.conftest import unavailable
from tests.integration.receivers import HttpReceiver, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as error:
        unavailable(f"no Docker daemon ({error}); tests/docker/docker-up.sh starts one")
    return client


@pytest.fixture
def started(docker_client: Any) -> Iterator[Callable[..., Any]]:
    """Containers started by this test, removed by id afterwards."""
    ours: list[Any] = []

    def start(**options: Any) -> Any:
        container = docker_client.containers.run(
            "busybox:local", ["sh", "-c", "echo ready; sleep 300"], detach=True, **options
        )
        ours.append(container)
        return container

    yield start
    for container in ours:
        container.remove(force=True)


ONE_RULE = """
rules:
  - id: db-down
    title: DB down
    severity: critical
    runbook: restart postgres
    match: {text: {contains: ECONNREFUSED}}
    examples: {match: ['connect ECONNREFUSED 1.2.3.4:5432']}
"""


def write_config(directory: Path, text: str, pack: bool = False, state_dir: Path | None = None) -> Path:
    """A logpipe.yml in `directory`; one small rule unless `pack` (the shipped pack takes seconds to load, and
    only the good-config test needs to show it passing)."""
    path = directory / "logpipe.yml"
    if not pack and "rules:" not in text:
        (directory / "one-rule.yml").write_text(ONE_RULE)
        text += "rules: [one-rule.yml]\n"
    path.write_text(f"state_dir: {state_dir or directory / 'state'}\n" + text)
    return path


def doctor(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["doctor", "--config", str(config), *extra])


def lines_of(result: Result, check: str) -> list[str]:
    """The check's line and, when it failed, its fix line."""
    lines = result.output.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line[5:].startswith(f"{check}:")]
    return lines[at : at + 2] if at + 1 < len(lines) and lines[at + 1].startswith("     fix:") else lines[at : at + 1]


@pytest.mark.usefixtures("docker_client")
def test_doctor_passes_every_check_on_a_good_config(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    channels = f"channels:\n  ops-webhook: {{url: '{http_receiver.url}/hook', kind: webhook}}\n"
    result = doctor(write_config(tmp_path, channels, pack=True))
    assert result.exit_code == 0, result.output
    for check in ("Docker reachable", "clock skew", "state directory", "rules", "templates", "channel ops-webhook"):
        assert lines_of(result, check)[0].startswith("ok   "), result.output
    assert "FAIL" not in result.output
    assert result.output.endswith("all checks passed\n")
    assert http_receiver.requests == []  # a dry run sends nothing


@pytest.mark.usefixtures("docker_client")
def test_a_channel_on_a_closed_port_fails_with_its_fix(tmp_path: Path) -> None:
    port = free_port()
    result = doctor(write_config(tmp_path, f"channels:\n  down: {{url: 'http://127.0.0.1:{port}/x'}}\n"))
    assert result.exit_code == 1
    check, fix = lines_of(result, "channel down")
    assert check.startswith(f"FAIL channel down: TCP 127.0.0.1:{port} (127.0.0.1): Connection refused")
    assert fix == "     fix: check channels.down.url and the firewall"


@pytest.mark.usefixtures("docker_client")
def test_a_plain_http_server_behind_an_https_url_fails_the_tls_handshake(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    url = http_receiver.url.replace("http://", "https://")
    result = doctor(write_config(tmp_path, f"channels:\n  slack: {{url: '{url}/hook', kind: slack}}\n"))
    assert result.exit_code == 1
    assert lines_of(result, "channel slack")[0].startswith(
        f"FAIL channel slack: TLS with 127.0.0.1:{http_receiver.port}"
    )


@pytest.mark.usefixtures("docker_client")
def test_a_host_that_does_not_resolve_fails_at_dns(tmp_path: Path) -> None:
    result = doctor(write_config(tmp_path, "channels:\n  typo: {url: 'https://hooks.slack.invalid/T0/B0'}\n"))
    assert result.exit_code == 1
    assert lines_of(result, "channel typo")[0].startswith(
        "FAIL channel typo: DNS: hooks.slack.invalid does not resolve"
    )


@pytest.mark.usefixtures("docker_client")
def test_an_unwritable_state_directory_fails_with_its_fix(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    # root writes anywhere, whatever the modes: a file as the parent is what stops even root
    result = doctor(write_config(tmp_path, "", state_dir=tmp_path / "a-file" / "state"))
    assert result.exit_code == 1
    check, fix = lines_of(result, "state directory")
    assert check == f"FAIL state directory: {tmp_path / 'a-file' / 'state'} is not writable: Not a directory"
    assert fix.startswith(f"     fix: create {tmp_path / 'a-file' / 'state'} writable by this user")


@pytest.mark.usefixtures("docker_client")
def test_a_bad_rule_file_fails_naming_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("rules:\n  - id: half-written\n    match: {message: {contains: x}}\n")
    result = doctor(write_config(tmp_path, "rules: [bad.yml]\n"))
    assert result.exit_code == 1
    check, fix = lines_of(result, "rules")
    assert check.startswith("FAIL rules: ")
    assert f"{tmp_path / 'bad.yml'}:2: rules[0].title: required key 'title' is missing" in check
    assert fix == "     fix: fix them: logpipe rules check"


@pytest.mark.usefixtures("docker_client")
def test_a_malformed_sentry_dsn_fails_with_where_to_find_the_right_one(tmp_path: Path) -> None:
    # the config itself refuses it, at its line, before any check runs (as every command does)
    result = doctor(write_config(tmp_path, "sentry: {dsn: 'https://sentry.example.com/not-a-project'}\n"))
    assert result.exit_code == 1
    assert "sentry.dsn: not a Sentry DSN" in result.output
    assert "https://PUBLIC_KEY@HOST/PROJECT_ID" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_docker_daemon_fails_with_its_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    result = doctor(write_config(tmp_path, ""))
    assert result.exit_code == 1
    check, fix = lines_of(result, "Docker reachable")
    assert check.startswith("FAIL Docker reachable: ")
    assert "docker group" in fix


def test_a_container_whose_log_driver_keeps_nothing_fails(tmp_path: Path, started: Callable[..., Any]) -> None:
    container = started(name=f"lp-doctor-{uuid.uuid4().hex[:8]}", log_config={"type": "none"})
    result = doctor(write_config(tmp_path, ""))
    assert result.exit_code == 1
    check, fix = lines_of(result, f"logs of {container.name}")
    assert check == f"FAIL logs of {container.name}: log driver none: Docker keeps no log to read"
    assert "json-file" in fix


@pytest.mark.usefixtures("docker_client")
def test_doctor_send_delivers_a_test_notification_through_each_channel(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    config = write_config(tmp_path, f"channels:\n  ops-webhook: {{url: '{http_receiver.url}/hook', kind: webhook}}\n")
    result = doctor(config, "--send")
    assert result.exit_code == 0, result.output
    assert lines_of(result, "send to ops-webhook") == ["ok   send to ops-webhook: test notification accepted"]
    (request,) = http_receiver.wait_for(1)
    assert b"logpipe test notification" in request.body


@pytest.mark.usefixtures("docker_client")
def test_doctor_as_a_real_process_exits_1_on_a_failure(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"channels:\n  down: {{url: 'http://127.0.0.1:{free_port()}/x'}}\n")
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("logpipe")), "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert completed.returncode == 1
    assert "FAIL channel down" in completed.stdout
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip() == "1 check(s) failed"


def test_init_writes_a_config_and_a_compose_service_for_what_runs_and_refuses_to_overwrite(
    tmp_path: Path, started: Callable[..., Any]
) -> None:
    project = f"lpinit{uuid.uuid4().hex[:8]}"
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": "clipforge-api"}
    container = started(name=f"{project}-clipforge-api-1", labels=labels)

    first = CliRunner().invoke(main, ["init", "--dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    config_text = (tmp_path / "logpipe.yml").read_text()
    assert f"#   {container.name} (Compose {project}/clipforge-api)" in config_text
    assert load_config(tmp_path / "logpipe.yml").state_dir == Path("/var/lib/logpipe")  # valid as written
    service = yaml.safe_load((tmp_path / "compose.logpipe.yml").read_text())["services"]["logpipe"]
    follow = service["command"]
    # alone on the daemon it would be --label com.docker.compose.project=...; others' containers may run beside
    assert f"com.docker.compose.project={project}" in follow or "clipforge-api" in follow
    assert service["read_only"] is True
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in service["volumes"]
    assert "/var/lib/docker/containers:/var/lib/docker/containers:ro" in service["volumes"]
    assert "logpipe-state:/var/lib/logpipe" in service["volumes"]
    assert service["group_add"] == [str(os.stat("/var/run/docker.sock").st_gid)]

    (tmp_path / "logpipe.yml").write_text("# mine\n")
    second = CliRunner().invoke(main, ["init", "--dir", str(tmp_path)])
    assert second.exit_code == 1
    assert f"{tmp_path / 'logpipe.yml'} exists; not overwriting it" in second.output
    assert (tmp_path / "logpipe.yml").read_text() == "# mine\n"
