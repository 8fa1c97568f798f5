"""The two installs from this repository, each into a fresh venv: the service side (`pip install logpipe`: the
logging configuration with structlog and orjson only) and the agent (`pipx install 'logpipe[agent]'`). What a
service prints must come back whole through the agent's parser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import IN_CI, ROOT, run_dir, run_lock
from tests.lockdiff import canonical, locked_versions

# pip and pipx fetch the agent's dependencies from PyPI (the first test, or one waiting for it, takes that long)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

AGENT_LOCK = ROOT / "requirements" / "agent.txt"  # uv.lock's agent set, exported with hashes for pip
AGENT_PINS = ROOT / "requirements" / "agent-pins.txt"  # the same versions without hashes, for pipx

# what the service side must not drag in (the agent's weight: compiled matcher, Docker client, notifications...)
AGENT_ONLY = {"hyperscan", "docker", "pydantic", "pydantic-core", "rich", "apprise", "prometheus-client", "click"}

SERVICE = """
import structlog
from logpipe.logconfig import configure_logging

configure_logging("clip-worker", version="1.4.2", json=True)
log = structlog.get_logger()
structlog.contextvars.bind_contextvars(job_id="job_7")
log.info("clip rendered", clip_id="clp_1", duration_ms=812, password="hunter2")
try:
    raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")
except ConnectionError:
    log.exception("render queue unreachable")
"""

INSTALLED = (
    "import importlib.metadata as m; print('\\n'.join(sorted(d.metadata['Name'].lower() for d in m.distributions())))"
)


def run(*command: str | Path, timeout: float = 120) -> str:
    completed = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


@pytest.fixture(scope="module")
def venvs(wheel: Path) -> dict[str, Path]:
    """The service side in a fresh venv (pip, resolving within pyproject's ranges, as a service does), and the agent
    as docs/deployment.md says: pipx, itself a fresh venv, held to the lock's versions; plain venv + pip from the hashed
    lock where pipx is missing, except in CI, which installs it. The service installs while the agent does. Made
    once per run: a worker that needs them while another makes them waits."""
    base = run_dir() / "venvs"
    made = base / "pythons.json"
    with run_lock("venvs"):
        if not made.exists():
            pythons = install(wheel, base)
            made.write_text(json.dumps({name: str(path) for name, path in pythons.items()}))
    return {name: Path(path) for name, path in json.loads(made.read_text()).items()}


def install(wheel: Path, base: Path) -> dict[str, Path]:
    shutil.rmtree(base, ignore_errors=True)  # what a worker that failed here left
    base.mkdir(parents=True)
    run(sys.executable, "-m", "venv", base / "service")
    # "agent": only its directory is used (bin/logpipe, where the user's PATH finds it); "agent-venv": its python
    pythons = {"service": base / "service" / "bin" / "python", "agent": base / "agent" / "bin" / "python"}
    service = subprocess.Popen(
        [str(pythons["service"]), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if shutil.which("pipx"):
        # pipx installs a local package, whose own hash no lock can hold: the lock's versions as constraints
        environment = {**os.environ, "PIPX_HOME": str(base / "pipx"), "PIPX_BIN_DIR": str(base / "agent" / "bin")}
        command = ["pipx", "install", f"--pip-args=--constraint {AGENT_PINS}", f"{wheel}[agent]"]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, check=False)
        assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}\n{completed.stderr}"
        pythons["agent-venv"] = base / "pipx" / "venvs" / "logpipe" / "bin" / "python"
    else:
        if IN_CI:
            pytest.fail("pipx is not installed in CI (.ci/run installs it)")
        run(sys.executable, "-m", "venv", base / "agent")  # as the image installs: every hash checked
        run(
            pythons["agent"],
            "-m",
            "pip",
            "install",
            "-q",
            "--require-hashes",
            "--no-deps",
            "-r",
            AGENT_LOCK,
            timeout=300,
        )
        run(pythons["agent"], "-m", "pip", "install", "-q", "--no-deps", wheel)
        pythons["agent-venv"] = pythons["agent"]
    out, err = service.communicate(timeout=240)
    assert service.returncode == 0, f"installing the service side failed:\n{out}\n{err}"
    return pythons


def test_the_agent_holds_exactly_the_locks_versions(venvs: dict[str, Path]) -> None:
    installed = installed_versions(venvs["agent-venv"])
    locked = locked_versions()
    assert {name: v for name, v in installed.items() if name in locked and locked[name] != v} == {}
    assert set(installed) - set(locked) <= {"logpipe", "pip", "setuptools", "wheel"}


def installed_versions(python: Path) -> dict[str, str]:
    listing = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)"
    return {
        canonical(name): version for name, version in (line.split() for line in run(python, "-c", listing).splitlines())
    }


def test_the_service_install_holds_structlog_and_orjson_and_nothing_of_the_agent(venvs: dict[str, Path]) -> None:
    installed = set(run(venvs["service"], "-c", INSTALLED).split())
    assert installed & AGENT_ONLY == set()
    assert installed - {"pip", "setuptools"} == {"logpipe", "structlog", "orjson"}


@pytest.mark.parametrize("command", [["logpipe"], ["python", "-m", "logpipe"]])
def test_the_service_side_logpipe_command_says_how_to_install_the_agent(
    venvs: dict[str, Path], command: list[str]
) -> None:
    program = [str(venvs["service"].with_name(command[0])), *command[1:]]
    completed = subprocess.run([*program, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "pip install 'logpipe[agent]'" in completed.stderr


def test_what_the_service_prints_round_trips_through_the_agents_parser(venvs: dict[str, Path], tmp_path: Path) -> None:
    printed = run(venvs["service"], "-c", SERVICE)
    log = tmp_path / "clip-worker.log"
    log.write_text(printed)
    parsed = [
        orjson.loads(line)
        for line in run(venvs["agent"].with_name("logpipe"), "parse", "--format", "jsonl", log).splitlines()
    ]

    assert [(e["level"], e["message"], e["parser"]) for e in parsed] == [
        ("info", "clip rendered", "json"),
        ("error", "render queue unreachable", "json"),
    ]
    rendered, failed = parsed
    assert rendered["fields"]["clip_id"] == "clp_1"
    assert rendered["fields"]["duration_ms"] == 812
    assert rendered["fields"]["job_id"] == "job_7"
    assert rendered["fields"]["service"] == "clip-worker"
    assert rendered["fields"]["password"] == "[REDACTED]"  # redacted in the service, before it ever reached a log
    assert "hunter2" not in printed
    (exception,) = failed["fields"]["exception"]
    assert exception["exc_type"] == "ConnectionError"
    assert "Connection refused" in exception["exc_value"]
    assert rendered["time"].startswith(orjson.loads(printed.splitlines()[0])["timestamp"][:19])
