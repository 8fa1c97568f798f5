"""Real receivers on loopback for the forwarders' tests: an HTTP server (webhooks, Slack), an SMTP server
(aiosmtpd) and Bugsink, a Sentry-protocol server (installed from PyPI into a cached venv on first use)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.waiting import DEADLINE, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- HTTP ----------------------------------------------------------------------------------------------------------
@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers from `plan` ((status, headers, body) in order), then 200 "ok"."""

    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    plan: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(Request(self.path, dict(self.headers), body))
                status, headers, answer = receiver.plan.popleft() if receiver.plan else (200, {}, b"ok")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = DEADLINE) -> list[Request]:
        """The requests once at least `count` arrived; fails the test after `timeout` seconds."""
        wait_until(lambda: len(self.requests) >= count, timeout, lambda: f"{count} requests ({len(self.requests)})")
        return self.requests


# --- SMTP ----------------------------------------------------------------------------------------------------------
class SmtpReceiver:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                receiver.messages.append(message)  # type: ignore[arg-type]
                return "250 Message accepted for delivery"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def url(self, to: str = "oncall@clipforge.test") -> str:
        sender = urllib.parse.quote("logpipe@clipforge.test")
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={urllib.parse.quote(to)}&smtp=127.0.0.1"

    def wait_for(self, count: int, timeout: float = DEADLINE) -> list[EmailMessage]:
        """The messages once at least `count` arrived; fails the test after `timeout` seconds."""
        wait_until(lambda: len(self.messages) >= count, timeout, lambda: f"{count} emails ({len(self.messages)})")
        return self.messages

    def stop(self) -> None:
        self._controller.stop()


# --- Bugsink (Sentry protocol) -------------------------------------------------------------------------------------
BUGSINK_SPEC = os.environ.get("BUGSINK_SPEC", "bugsink==2.6.2")
_CONF_TAIL = """
import os as _os
_STATE = _os.path.dirname(_os.path.abspath(__file__))
DATABASES["default"]["NAME"] = _os.path.join(_STATE, "db.sqlite3")
DATABASES["default"]["TEST"]["NAME"] = _os.path.join(_STATE, "test.sqlite3")
DATABASES["snappea"]["NAME"] = _os.path.join(_STATE, "snappea.sqlite3")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SNAPPEA["TASK_ALWAYS_EAGER"] = True
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
BUGSINK["INGEST_STORE_BASE_DIR"] = _os.path.join(_STATE, "ingestion")
BUGSINK["PHONEHOME"] = False
for _k in ("MAX_EVENTS_PER_PROJECT_PER_5_MINUTES", "MAX_EVENTS_PER_PROJECT_PER_HOUR",
           "MAX_EVENTS_PER_PROJECT_PER_MONTH", "MAX_EVENTS_PER_5_MINUTES", "MAX_EVENTS_PER_HOUR",
           "MAX_EVENTS_PER_MONTH"):
    BUGSINK[_k] = 10**9
"""


@dataclass
class Bugsink:
    home: Path
    port: int
    dsn: str = ""
    token: str = ""
    project: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/canonical/0"

    def _bin(self, name: str) -> str:
        return str(self.home / "venv" / "bin" / name)

    def install(self) -> None:
        venv = self.home / "venv"
        if (venv / "bin" / "bugsink-manage").exists():
            return
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", BUGSINK_SPEC],
            check=True,
            capture_output=True,
            timeout=900,
        )

    def start(self) -> Bugsink:
        self.home = self.home.resolve()
        self.install()
        state = self.home / f"state-{self.port}"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        conf = state / "bugsink_conf.py"
        subprocess.run(
            [
                self._bin("bugsink-create-conf"),
                "--template=local",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "-o",
                str(conf),
            ],
            check=True,
            capture_output=True,
            cwd=state,
        )
        conf.write_text(conf.read_text() + _CONF_TAIL)
        manage = [self._bin("bugsink-manage")]
        for args in (["migrate", "--noinput"], ["migrate", "snappea", "--database=snappea", "--noinput"]):
            subprocess.run(manage + args, check=True, capture_output=True, cwd=state, timeout=300)
        env = {
            **os.environ,
            "DJANGO_SUPERUSER_USERNAME": "admin@example.com",
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
            "DJANGO_SUPERUSER_PASSWORD": "test-only-password",
        }
        subprocess.run([*manage, "createsuperuser", "--noinput"], check=True, capture_output=True, cwd=state, env=env)
        token = subprocess.run([*manage, "create_auth_token"], check=True, capture_output=True, cwd=state, text=True)
        self.token = token.stdout.strip().splitlines()[-1]
        self.process = subprocess.Popen(
            [
                self._bin("gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--chdir",
                str(state),
                "--error-logfile",
                str(state / "server.log"),
                "--access-logfile",
                str(state / "access.log"),
                "--capture-output",
                "bugsink.wsgi",
            ],
            cwd=state,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + DEADLINE
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/ready", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited: " + (state / "server.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        else:
            raise RuntimeError(f"Bugsink did not become ready within {DEADLINE} s")
        team = self._call("POST", "/teams/", {"name": "tests"})
        created = self._call(
            "POST",
            "/projects/",
            {
                "name": "logpipe",
                "team": team["id"],
                "alert_on_new_issue": False,
                "alert_on_regression": False,
                "alert_on_unmute": False,
            },
        )
        self.project = created["id"]
        self.dsn = self._call("GET", f"/projects/{self.project}/")["dsn"]
        return self

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.api + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The stored event payload for an event id, or None."""
        query = urllib.parse.urlencode({"project": self.project, "event_id": event_id})
        try:
            return self._call("GET", f"/events/lookup/?{query}")["data"]  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    # --- one server for a whole test run, shared by its worker processes ------------------------------------------
    def shared(self) -> dict[str, Any]:
        """What another process needs to use this running server (and its gunicorn's pid, to stop it)."""
        assert self.process is not None
        return {"home": str(self.home), "port": self.port, "dsn": self.dsn, "token": self.token,
                "project": self.project, "pid": self.process.pid}  # fmt: skip

    @classmethod
    def attach(cls, shared: dict[str, Any]) -> Bugsink:
        """The server another process started (it stops it, not this one)."""
        return cls(Path(shared["home"]), shared["port"], shared["dsn"], shared["token"], shared["project"])


def stop_shared_bugsink(shared: dict[str, Any]) -> None:
    """Stop the run's Bugsink (gunicorn leads its own process group) by the pid its starter recorded."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(shared["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{shared['pid']}").exists():
            time.sleep(0.1)
        os.killpg(shared["pid"], signal.SIGKILL)
