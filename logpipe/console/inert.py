"""`inert`: what every human view applies to text that came from logs, so a log line cannot drive the reader's
terminal. Its own module, with no dependency, because the service side's logging configuration uses it too."""

from __future__ import annotations

import re

__all__ = ["inert"]

# C0 controls but tab and newline, DEL, C1 controls (a lone 0x9b is CSI to some terminals), and the Unicode
# direction overrides and line separators that reorder or break what a reader sees
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """The text with control characters shown as escapes (`\\x1b]0;pwned\\x07`), so a log line can neither set
    the window title, clear the screen nor move the cursor of whoever reads it. Tabs and newlines stay."""
    return _CONTROL.sub(_escaped, text)
