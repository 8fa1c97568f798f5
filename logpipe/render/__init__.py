"""Notification templates: the renderer (renderer.py), its sandbox (sandbox.py), the default templates (templates/)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logpipe.render.renderer import *  # noqa: F403

FACE = ("logpipe.render.renderer",)  # the modules whose names the package answers for


def __getattr__(name: str) -> object:
    """The package's face, imported when first asked for: a module of the package imported alone (by what the face
    itself needs) must not load the rest."""
    for home in FACE:
        try:
            return getattr(importlib.import_module(home), name)
        except AttributeError:
            continue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
