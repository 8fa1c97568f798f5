"""A real Alertmanager (Debian's prometheus-alertmanager, installed by .ci/run) on loopback, for the tests of the
`alertmanager` channel: its own data directory, clustering off, its webhook receiver pointed at a test server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.receivers import free_port

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")


def alertmanager_binary() -> str | None:
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Alertmanager:
    """`webhook`: where its one receiver posts (Alertmanager's webhook_config); alerts grouped by `group_by`, sent
    after `group_wait`, changes to a group after `group_interval`."""

    home: Path
    webhook: str
    group_by: tuple[str, ...] = ("alertname",)
    group_wait: str = "1s"
    group_interval: str = "1s"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Alertmanager:
        binary = alertmanager_binary()
        if binary is None:
            raise RuntimeError("no prometheus-alertmanager (apt-get install prometheus-alertmanager)")
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: test\n"
            f"  group_by: [{', '.join(self.group_by)}]\n"
            f"  group_wait: {self.group_wait}\n"
            f"  group_interval: {self.group_interval}\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: test\n"
            f"    webhook_configs: [{{url: '{self.webhook}', send_resolved: true}}]\n"
        )
        check = subprocess.run(["amtool", "check-config", str(config)], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"amtool check-config: {check.stdout}{check.stderr}")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={self.home / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # clustering off: no gossip port, no peers
            ],
            stdout=(self.home / "alertmanager.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Alertmanager did not start: " + self.log()[-2000:]) from None
                time.sleep(0.1)

    def log(self) -> str:
        path = self.home / "alertmanager.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active, silenced and inhibited; not resolved ones)."""
        query = "?" + urllib.parse.urlencode(filters) if filters else ""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts{query}", timeout=5) as answer:
            return json.load(answer)  # type: ignore[no-any-return]

    def alert(self, alertname: str) -> dict[str, Any] | None:
        found = [a for a in self.alerts() if a["labels"].get("alertname") == alertname]
        return found[0] if found else None

    def silence(self, matchers: dict[str, str], comment: str = "maintenance") -> str:
        """A silence for the next hour, as `amtool silence add` makes it; its id."""
        now = datetime.now(UTC)
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "logpipe tests",
            "comment": comment,
        }
        request = urllib.request.Request(
            f"{self.url}/api/v2/silences",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            return str(json.load(answer)["silenceID"])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None
