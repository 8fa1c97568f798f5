"""A Python service using configure_logging(..., sentry_dsn=...) raises with secrets in its local variables and
its message; the event Bugsink stores holds none of them (frame locals are not sent unless asked, and whatever
is sent passes the redactor). Run under each sentry-sdk major logpipe supports, each in its own venv with the
service-side install (the wheel, structlog and orjson at the lock's versions), and under one it does not: that
service logs on without Sentry, and says why in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from logpipe.logsentry import SUPPORTED_MAJORS
from tests.integration.receivers import Bugsink
from tests.lockdiff import locked_versions

# The newest release of each major logsentry.py speaks (SUPPORTED_MAJORS) when it was last checked, and one it
# does not. The lock's own version runs in every other test; `make test-latest` and `make test-lowest` try the
# ends of pyproject's range.
SENTRY_SDK_RELEASES = {2: "2.76.0", 3: "3.0.0"}
UNSUPPORTED_SENTRY_SDK = "1.45.1"

SERVICE = """
import sys
import sentry_sdk
import structlog
from logpipe.logconfig import configure_logging

# the id of the event the bridge sends (sentry_sdk.last_event_id is not in every 2.x: 2.0 has none)
event_ids = []
capture_exception = sentry_sdk.capture_exception
sentry_sdk.capture_exception = lambda *args, **kwargs: event_ids.append(capture_exception(*args, **kwargs))

configure_logging("clip-worker", version="1.0", json=True, sentry_dsn=sys.argv[1],
                  sentry_include_local_variables=sys.argv[2] == "locals")
log = structlog.get_logger("payments")

def charge(user_email):
    card = "4242424242424242"
    stripe_key = "sk_live_51HxYzAbCdEfGhIjKlMn"
    headers = {"Authorization": "Bearer abcdefghijklmnop1234", "x-request-id": "req-7f3a91c2"}
    log.info("charging", email=user_email, password="Hunter2pass", order="order_Nf3kq9ZlS0xYb1")
    raise ValueError(f"charge failed for {user_email} with key {stripe_key}")

try:
    charge("bob.smith@example.com")
except ValueError:
    log.exception("charge failed", card_number="4242424242424242")
sentry_sdk.flush(10)
print(event_ids[-1])
"""

SECRETS = (
    "4242424242424242",
    "bob.smith@example.com",
    "sk_live_51HxYzAbCdEfGhIjKlMn",
    "abcdefghijklmnop1234",
    "Hunter2pass",
)


def service_venv(wheel: Path, home: Path, sentry_sdk: str) -> Path:
    """A fresh venv as a service would hold it: logpipe's wheel, the lock's structlog and orjson, and the given
    sentry-sdk (uv, from its cache after the first run)."""
    uv = Path(sys.executable).parent / "uv"
    locked = locked_versions()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, home], check=True, capture_output=True)
    python = home / "bin" / "python"
    pins = [f"structlog=={locked['structlog']}", f"orjson=={locked['orjson']}", f"sentry-sdk=={sentry_sdk}"]
    installed = subprocess.run(
        [uv, "pip", "install", "-q", "--python", python, wheel, *pins],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    return python


@pytest.fixture(scope="module", params=sorted(SENTRY_SDK_RELEASES), ids=lambda major: f"sentry-sdk-{major}.x")
def service_python(request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    release = SENTRY_SDK_RELEASES[request.param]
    return service_venv(wheel, tmp_path_factory.mktemp(f"sentry-sdk-{release}"), release)


def test_every_supported_major_has_its_venv() -> None:
    assert sorted(SENTRY_SDK_RELEASES) == list(SUPPORTED_MAJORS)


def service_event(bugsink: Bugsink, mode: str, python: Path | str = sys.executable) -> dict[str, object]:
    completed = subprocess.run(
        [python, "-c", SERVICE, bugsink.dsn, mode], capture_output=True, text=True, timeout=60, check=True
    )
    event_id = completed.stdout.strip().splitlines()[-1]
    event = bugsink.event(event_id)
    assert event is not None, completed.stderr
    for secret in SECRETS:  # the service's own JSON log is redacted too
        assert secret not in completed.stdout
    return event


def frames(event: dict[str, object]) -> list[dict[str, object]]:
    values = event["exception"]["values"]  # type: ignore[index]
    return [frame for value in values for frame in value["stacktrace"]["frames"]]  # type: ignore[index]


@pytest.mark.integration
def test_a_service_exception_reaches_sentry_without_locals_or_secrets(bugsink: Bugsink, service_python: Path) -> None:
    event = service_event(bugsink, "default", service_python)
    stored = json.dumps(event)
    assert [secret for secret in SECRETS if secret in stored] == []
    assert all("vars" not in frame for frame in frames(event))  # no frame locals unless asked
    assert "charge failed for b***@example.com with key [REDACTED]" in stored
    assert "order_Nf3kq9ZlS0xYb1" in stored  # the breadcrumb came, redacted, with what is not secret


@pytest.mark.integration
def test_frame_locals_when_asked_for_are_redacted(bugsink: Bugsink, service_python: Path) -> None:
    event = service_event(bugsink, "locals", service_python)
    stored = json.dumps(event)
    assert [secret for secret in SECRETS if secret in stored] == []
    charge = next(frame for frame in frames(event) if frame.get("function") == "charge")
    assert "req-7f3a91c2" in json.dumps(charge["vars"])  # locals are there, their secrets are not


@pytest.mark.integration
def test_the_installed_sentry_sdk_reaches_bugsink_without_locals(bugsink: Bugsink) -> None:
    """This venv's own sentry-sdk: the lock's in `make test`, the range's newest or lowest in test-latest/-lowest."""
    event = service_event(bugsink, "default")
    assert all("vars" not in frame for frame in frames(event))
    assert [secret for secret in SECRETS if secret in json.dumps(event)] == []


@pytest.mark.integration
def test_an_unsupported_sentry_sdk_is_one_line_and_the_service_logs_on(
    bugsink: Bugsink, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = service_venv(wheel, tmp_path_factory.mktemp("sentry-sdk-old"), UNSUPPORTED_SENTRY_SDK)
    script = SERVICE.split("sentry_sdk.flush", maxsplit=1)[0]  # nothing went to Sentry: no event id to print
    completed = subprocess.run(
        [python, "-c", script, bugsink.dsn, "default"], check=False, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    warning, *logged = lines
    assert warning["level"] == "warning"
    assert f"sentry-sdk {UNSUPPORTED_SENTRY_SDK} is not supported" in warning["event"]
    assert "sentry-sdk>=2,<4" in warning["event"]
    assert [line["event"] for line in logged] == ["charging", "charge failed"]  # the service's logs go on
    assert "Traceback" not in completed.stderr
