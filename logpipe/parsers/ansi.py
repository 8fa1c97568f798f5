"""ANSI escape sequences (colours, including 256-colour and truecolour SGR, cursor moves, OSC titles)."""

from __future__ import annotations

import re

# CSI (ESC [ params intermediates final), covering SGR 38;5;n and 38;2;r;g;b and colon forms;
# OSC (ESC ] ... BEL or ST); and two-character escapes (ESC followed by one of @-Z \ ] ^ _).
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\^_])|\x9b[0-?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    if "\x1b" not in text and "\x9b" not in text:
        return text
    return _ANSI.sub("", text)
