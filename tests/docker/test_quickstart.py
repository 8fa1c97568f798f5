"""The README's quick start, run as written, command by command, as a newcomer would: the agent installed with pipx
from this clone (into a home of its own), `logpipe init`, `logpipe doctor` and `logpipe follow clipforge-api`
against a real Docker daemon, where a container of the Compose service `clipforge-api` loses its database. Each
command must succeed, and the follower must print the alert."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

OUTAGE = "[Nest] 1  - 11/27/2026, 9:05:02 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)..."


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """The quick start reads as the agent chooses (its json-file log, as root): once."""
    monkeypatch.delenv("LOGPIPE_DOCKER_READ", raising=False)
    return "auto"


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("<!-- quickstart -->") : text.index("<!-- /quickstart -->")]
    (commands,) = re.findall(r"```sh\n(.*?)```", block, re.S)
    return [line.split("  #")[0].strip() for line in commands.splitlines() if line.strip()]


def test_the_readme_quick_start_runs_as_written(tmp_path: Path, docker_client: Any) -> None:
    if not shutil.which("pipx"):
        if IN_CI:
            pytest.fail("pipx is not installed in CI (.ci/run installs it)")
        pytest.skip("pipx is not installed (apt-get install pipx)")
    commands = quick_start()
    assert [command.split()[:2] for command in commands] == [
        ["pipx", "install"], ["logpipe", "init"], ["logpipe", "doctor"], ["logpipe", "follow"],
    ]  # fmt: skip
    home, bin_dir = tmp_path / "home", tmp_path / "home" / ".local" / "bin"
    home.mkdir()
    env = {
        "HOME": str(home), "PIPX_HOME": str(home / ".local" / "pipx"), "PIPX_BIN_DIR": str(bin_dir),
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",  # the logpipe pipx installed, not this venv's
        "LANG": "C.UTF-8",
        # this machine's pip settings and cache (the fresh home has none), and a state directory of the test's
        # own: as root, the config `logpipe init` writes would keep it in /var/lib/logpipe
        "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"), "LOGPIPE_STATE_DIR": str(tmp_path / "state"),
        **{key: os.environ[key] for key in ("DOCKER_HOST", "PIP_CONFIG_FILE") if key in os.environ},
    }  # fmt: skip
    user_pip = Path.home() / ".config" / "pip" / "pip.conf"
    if "PIP_CONFIG_FILE" not in env and user_pip.exists():
        env["PIP_CONFIG_FILE"] = str(user_pip)
    project = f"lpquick{uuid.uuid4().hex[:8]}"
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": "clipforge-api"}
    box = docker_client.containers.run(
        "busybox:local", ["sh", "-c", f"echo '{OUTAGE}'; sleep 3600"], name=f"{project}-clipforge-api-1",
        labels=labels, network_mode="none", detach=True,
    )  # fmt: skip
    try:
        for command in commands[:-1]:  # in the clone, as the README says
            done = subprocess.run(
                command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert (bin_dir / "logpipe").exists()
        assert (home / "logpipe" / "logpipe.yml").exists()
        output = tmp_path / "follow.out"
        # exec: the shell becomes logpipe, so the SIGTERM below reaches logpipe itself and its exit code is its own
        follower = subprocess.Popen(
            f"exec {commands[-1]}", shell=True, cwd=ROOT, env=env, stdout=output.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until(
                lambda: "postgres-connection-error" in output.read_text() or follower.poll() is not None,
                120,
                lambda: output.read_text()[-2000:],
            )
            assert follower.poll() is None, output.read_text()[-2000:]
        finally:
            os.killpg(follower.pid, signal.SIGTERM)
            follower.wait(timeout=60)
        assert follower.returncode == 0, output.read_text()[-2000:]
    finally:
        box.remove(force=True)
