"""A command run on a pseudo-terminal, as a person would run it: what it drew (stdout and stderr) and its exit
code. For what logpipe prints only on a terminal: the live view, tables, progress."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Sequence
from pathlib import Path

CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(
    args: Sequence[str], cwd: Path | None = None, columns: int = 140, timeout: float = 60
) -> tuple[int, str]:
    """Run `args` to its end on a pseudo-terminal of 40 rows and `columns` columns; its exit code and the text it
    wrote, colours and cursor moves taken out."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        list(args), stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd, start_new_session=True
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=timeout)
    os.close(controller)
    return process.returncode, CONTROL.sub("", output.decode("utf-8", "replace"))
