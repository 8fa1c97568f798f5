"""The compiled rules, one module per kind (every, threshold, ratio, aggregate, absence, sequence) on base.py's
CompiledRule."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logpipe.engine.kinds.absence import *  # noqa: F403
    from logpipe.engine.kinds.aggregate import *  # noqa: F403
    from logpipe.engine.kinds.base import *  # noqa: F403
    from logpipe.engine.kinds.every import *  # noqa: F403
    from logpipe.engine.kinds.make import *  # noqa: F403
    from logpipe.engine.kinds.ratio import *  # noqa: F403
    from logpipe.engine.kinds.sequence import *  # noqa: F403
    from logpipe.engine.kinds.threshold import *  # noqa: F403
    from logpipe.engine.kinds.windowed import *  # noqa: F403

FACE = (
    "logpipe.engine.kinds.base",
    "logpipe.engine.kinds.every",
    "logpipe.engine.kinds.threshold",
    "logpipe.engine.kinds.windowed",
    "logpipe.engine.kinds.ratio",
    "logpipe.engine.kinds.aggregate",
    "logpipe.engine.kinds.absence",
    "logpipe.engine.kinds.sequence",
    "logpipe.engine.kinds.make",
)  # the modules whose names the package answers for


def __getattr__(name: str) -> object:
    """The package's face, imported when first asked for: a module of the package imported alone (by what the face
    itself needs) must not load the rest."""
    for home in FACE:
        try:
            return getattr(importlib.import_module(home), name)
        except AttributeError:
            continue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
