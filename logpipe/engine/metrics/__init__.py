"""Log-derived metrics: the metric set (model.py), their schema, examples, Prometheus export, and URL path templates
(paths.py)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logpipe.engine.metrics.model import *  # noqa: F403

FACE = ("logpipe.engine.metrics.model",)  # the modules whose names the package answers for


def __getattr__(name: str) -> object:
    """The package's face, imported when first asked for: a module of the package imported alone (by what the face
    itself needs) must not load the rest."""
    for home in FACE:
        try:
            return getattr(importlib.import_module(home), name)
        except AttributeError:
            continue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
