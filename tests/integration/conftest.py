"""Fixtures that start real receivers. In CI (CI=true) a receiver that cannot start fails the run; elsewhere
its tests are skipped with the reason."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.receivers import Bugsink, HttpReceiver, SmtpReceiver, free_port

IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"a receiver the tests need could not start in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def bugsink() -> Iterator[Bugsink]:
    home = Path(os.environ.get("LOGPIPE_TEST_CACHE", ROOT / ".cache")) / "bugsink"
    server = Bugsink(home, free_port())
    try:
        server.start()
    except Exception as error:
        server.stop()
        unavailable(f"Bugsink did not start: {error}")
    yield server
    server.stop()
