"""The receivers' fixtures live in tests/conftest.py: the Docker follower's tests use them too. Here: logpipe's
wheel, built once per session for the tests that install it (test_install.py, test_python_worker.py), and a real
redis-server for the fleet's tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_dir, run_lock, unavailable
from tests.integration.redisserver import RedisServer


@pytest.fixture(scope="session")
def wheel() -> Path:
    """A plain build, as pip makes it for a user: no LOGPIPE_COMPILE, so pure Python (no compiler). Built once
    per run, by the first worker that needs it."""
    out = run_dir() / "wheel"
    with run_lock("wheel"):
        if not any(out.glob("logpipe-*.whl")):
            command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
            built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
            assert built.returncode == 0, built.stderr[-3000:]
    (made,) = out.glob("logpipe-*.whl")
    assert made.name.endswith("-py3-none-any.whl"), made.name  # pure: installs on aarch64 and Alpine alike
    return made


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the fleet's tests (each test uses its own key prefix)."""
    try:
        server = RedisServer(Path(tmp_path_factory.mktemp("redis"))).start()
    except (OSError, RuntimeError) as error:
        unavailable(f"no redis-server: {error}")
        raise
    yield server
    server.stop()
