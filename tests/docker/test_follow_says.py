"""What `logpipe follow` tells the person running it: a name no container has is said at once (a warning, and on
the live view's row, with the names it is closest to), `--wait-for` bounds the wait with exit code 1, and the
live view counts the rules it has no room to name ("+N more")."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_follow import logged
from tests.terminal import on_a_terminal

pytestmark = pytest.mark.integration


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """What follow says does not depend on how the log is read: once."""
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto")
    return "json-file"


def follow_on_a_terminal(tmp_path: Path, *arguments: str) -> tuple[int, str]:
    """`logpipe follow ARGUMENTS` on a pseudo-terminal to its end: its exit code and the screen it drew."""
    command = [sys.executable, "-m", "logpipe", "follow", *arguments, "--config", str(tmp_path / "logpipe.yml")]
    return on_a_terminal(command, tmp_path)


def test_a_name_no_container_has_is_a_warning_at_once_naming_the_closest(tmp_path: Path, container: Any) -> None:
    """At the default log level (warning), off a terminal: the follower says at once that it waits, and for
    what, instead of waiting in silence."""
    box = container("sleep 3600")
    typo = box.name[:-1] + ("x" if box.name[-1] != "x" else "y")
    (tmp_path / "logpipe.yml").write_text("state_dir: state\n")
    log = tmp_path / "stderr"
    process = subprocess.Popen(
        [sys.executable, "-m", "logpipe", "follow", typo, "--config", str(tmp_path / "logpipe.yml")],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True, cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "LOGPIPE_LOG_LEVEL"},
    )  # fmt: skip
    process.log = log  # type: ignore[attr-defined]
    try:
        # the closest name first (the daemon may hold other tests' containers, named alike)
        logged(process, f"no container named {typo} (did you mean {box.name}")
        said = next(line for line in log.read_text().splitlines() if "no container named" in line)
        assert '"level":"warning"' in said
        assert "?); waiting for it" in said
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_wait_for_bounds_the_wait_and_the_live_view_shows_the_missing_name(tmp_path: Path) -> None:
    (tmp_path / "logpipe.yml").write_text("state_dir: state\n")
    missing = f"lp-nosuch-{uuid.uuid4().hex[:8]}"
    code, screen = follow_on_a_terminal(tmp_path, missing, "--wait-for", "3s")
    assert code == 1, screen[-2000:]
    assert re.search(rf"{missing}\s*│\s*no container named", screen), screen[-3000:]  # its row says why
    assert f"Error: no container named {missing} within 3 s (--wait-for)" in screen


def test_the_live_view_counts_the_rules_it_does_not_name(tmp_path: Path, container: Any) -> None:
    """Seven rules fire; the view names the five most fired and says +2 more (it stopped at five, silently)."""
    rules = "rules:\n" + "".join(
        f"  - id: rule-{n}\n    title: rule {n}\n    severity: warning\n    runbook: none\n"
        f"    match: {{message: {{contains: 'thing-{n} '}}}}\n    examples: {{match: ['thing-{n} x']}}\n"
        for n in range(7)
    )
    (tmp_path / "rules.yml").write_text(rules)
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules.yml]\n")
    box = container("; ".join(f"echo 'thing-{n} happened'" for n in range(7)))
    code, screen = follow_on_a_terminal(tmp_path, box.name, "--since", "beginning", "--until-exit")
    assert code == 0, screen[-2000:]
    assert "alerts fired: 7" in screen
    assert "+2 more" in screen
