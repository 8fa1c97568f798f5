"""Shared fixtures: global logging state is reset around every test (structlog and the root logger); real
receivers (HTTP, SMTP, Bugsink, Alertmanager, PagerDuty's Events API) and a headless Chromium. In CI (CI=true) a
service that cannot start fails the run; elsewhere its tests are skipped with the reason.

`make test` runs the suite on several processes (pytest-xdist): session fixtures start once per worker, and what
is made once per run (Bugsink, a wheel, the image, the installs; the host's Docker daemon if none answers) is made
by the first worker that needs it, under a file lock in the run's directory (run_dir()), and used by the others;
the controlling process stops the run's Bugsink and removes the directory at the end."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.integration.alertmanager import Alertmanager, alertmanager_binary
from tests.integration.pagerduty import EventsApi
from tests.integration.receivers import Bugsink, HttpReceiver, SmtpReceiver, free_port, stop_shared_bugsink

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_configure(config: pytest.Config) -> None:
    """The run's directory, made by the controlling process before it starts any worker (they inherit it)."""
    if not hasattr(config, "workerinput"):
        os.environ["LOGPIPE_TEST_RUN"] = tempfile.mkdtemp(prefix="logpipe-test-run-")


def run_dir() -> Path:
    """Shared by every worker of this run: what is made once per run lives here."""
    return Path(os.environ["LOGPIPE_TEST_RUN"])


@contextlib.contextmanager
def run_lock(name: str) -> Iterator[None]:
    """One worker at a time through this block (the others wait): making what the whole run shares."""
    with (run_dir() / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or "LOGPIPE_TEST_RUN" not in os.environ:
        return
    shared_bugsink = run_dir() / BUGSINK_FILE
    if shared_bugsink.exists():  # after every worker is done with it
        stop_shared_bugsink(json.loads(shared_bugsink.read_text()))
    shutil.rmtree(run_dir(), ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The hot path runs compiled (setup.py): a module edited after its build would be shadowed by the old .so,
    and the tests would test yesterday's code. Refuse to run rather than pass on stale code."""
    stale = [
        str(source.relative_to(ROOT))
        for built in (ROOT / "logpipe").rglob("*.so")
        for suffix in (".py", ".c")  # mypyc's modules, and the hand-written C ones (logpipe/sources/docker/_jsonfile.c)
        if (source := built.with_name(built.name.split(".", 1)[0] + suffix)).exists()
        and source.stat().st_mtime > built.stat().st_mtime
    ]
    if stale:
        pytest.exit(f"compiled modules older than their source: {', '.join(stale)}; run `make install`", returncode=4)


SERVICE_DIRS = ("docker", "integration")  # tests that need a real service: a daemon, a receiver, a mount


# Bugsink takes a minute of CPU to start (migrations, a user, a token) and, on a cold cache, longer to install:
# the first test to need it in a run (or one waiting for the worker that starts it) may take that long
BUGSINK_TIMEOUT = pytest.mark.timeout(600)
BUGSINK_FILE = "bugsink.json"  # in the run's directory: the run's one Bugsink


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/docker and tests/integration is `integration`, so `make test-unit` (-m "not
    integration") runs without services; a new file there cannot forget the marker."""
    for item in items:
        parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in SERVICE_DIRS:
            item.add_marker(pytest.mark.integration)
        if "bugsink" in getattr(item, "fixturenames", ()):
            item.add_marker(BUGSINK_TIMEOUT)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """A service or tool a test needs is missing: in CI (which installs and starts everything) the test fails;
    elsewhere it is skipped with the reason."""
    if IN_CI:
        pytest.fail(f"needed in CI, where .ci/run provides it: {reason}")
    pytest.skip(reason)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def alertmanager(tmp_path: Path, http_receiver: HttpReceiver) -> Iterator[Alertmanager]:
    """A real Alertmanager (Debian's prometheus-alertmanager) whose webhook receiver posts to `http_receiver`."""
    if alertmanager_binary() is None:
        unavailable("Debian's prometheus-alertmanager is not installed (.ci/run installs it)")
    server = Alertmanager(tmp_path / "am", http_receiver.url + "/alertmanager")
    try:
        server.start()
    except RuntimeError as error:
        server.stop()
        unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture
def events_api() -> Iterator[EventsApi]:
    """A local server implementing PagerDuty's Events API v2 contract (PagerDuty itself cannot run here)."""
    api = EventsApi().start()
    yield api
    api.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def bugsink() -> Bugsink:
    """One Bugsink for the run (each test looks up its own events by id): the first worker to need it installs
    it (in the cache dir, kept for later runs) and starts it, the others wait and attach; the controlling
    process stops it at the end (pytest_unconfigure)."""
    home = Path(os.environ.get("LOGPIPE_TEST_CACHE", ROOT / ".cache")) / "bugsink"
    shared = run_dir() / BUGSINK_FILE
    with run_lock("bugsink"):
        if shared.exists():
            return Bugsink.attach(json.loads(shared.read_text()))
        server = Bugsink(home, free_port())
        try:
            server.start()
        except Exception as error:
            server.stop()
            unavailable(f"Bugsink did not start: {error}")
        shared.write_text(json.dumps(server.shared()))
    return server


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium (Debian's chromium and chromium-driver) driven through Selenium, for the HTML reports."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        unavailable("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2200",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
