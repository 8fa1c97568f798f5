"""The receivers' fixtures live in tests/conftest.py: the Docker follower's tests use them too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.integration.redisserver import RedisServer


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
