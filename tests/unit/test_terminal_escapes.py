"""A log line carrying terminal escapes (set the window title, clear the screen) prints inert in every human
view, run on a real pseudo-terminal: the parse table, human replay, rules explain, and follow's live view."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from logpipe.console.inert import inert

HOSTILE = "\x1b]0;pwned\x07\x1b[2J"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J"  # what a reader sees instead
LINES = [
    json.dumps({"level": "error", "message": f"UnhandledPromiseRejection {HOSTILE} boom", "context": f"Ctx{HOSTILE}"}),
    f"[Nest] 1  - 11/27/2026, 9:05:00 AM   ERROR [ExceptionsHandler] Cannot read {HOSTILE} x",
    f"plain line {HOSTILE} end",
]
LIVE_VIEW = f"""
from logpipe.console.liveview import LiveView, Snapshot, ContainerRow
import collections, sys
with LiveView(sys.stdout) as view:
    view.show(Snapshot([ContainerRow("api{HOSTILE!r}"[:-1], "following", 3, 1.0, 0.1)],
                       collections.Counter({{"rule{HOSTILE!r}"[:-1]: 1}}), {{"docker": "down{HOSTILE!r}"[:-1]}}))
"""


def on_a_terminal(args: list[str], cwd: Path) -> str:
    """What `args` writes on a pseudo-terminal (stdout and stderr), as the terminal receives it."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    process = subprocess.Popen(args, stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd, start_new_session=True)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    assert process.returncode == 0, output.decode("utf-8", "replace")[-2000:]
    return output.decode("utf-8", "replace")


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    log = tmp_path / "hostile.log"
    log.write_text("\n".join(LINES) + "\n")
    return log


LOGPIPE = [sys.executable, "-m", "logpipe"]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["parse", "--format", "table"], id="parse-table"),
        pytest.param(["replay", "--format", "human"], id="replay-human"),
    ],
)
def test_escapes_from_logs_print_inert(hostile_log: Path, command: list[str]) -> None:
    screen = on_a_terminal([*LOGPIPE, *command, str(hostile_log)], hostile_log.parent)
    assert "\x1b]0;" not in screen  # no window title set
    assert "\x1b[2J" not in screen  # no screen cleared
    assert SHOWN in screen


def test_rules_explain_prints_escapes_inert(tmp_path: Path) -> None:
    screen = on_a_terminal([*LOGPIPE, "rules", "explain", "--rule", "unhandled-exception", LINES[0]], tmp_path)
    assert "\x1b]0;" not in screen
    assert "\x1b[2J" not in screen
    assert "MATCH" in screen
    assert SHOWN in screen


def test_the_live_view_prints_escapes_inert(tmp_path: Path) -> None:
    screen = on_a_terminal([sys.executable, "-c", LIVE_VIEW], tmp_path)
    assert "\x1b]0;" not in screen
    assert "\x1b[2J" not in screen
    assert "pwned" in screen


def test_inert_keeps_tabs_and_newlines_and_shows_the_rest() -> None:
    assert inert(f"a\tb\nc{HOSTILE}\r\u202e") == f"a\tb\nc{SHOWN}\\x0d\\u202e"
