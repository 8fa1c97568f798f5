"""logpipe.yml: its typed settings (settings.py), loading with file:line errors (load.py), YAML with line numbers
(yamlfile.py), durations (durations.py)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logpipe.config.load import *  # noqa: F403
    from logpipe.config.settings import *  # noqa: F403

FACE = ("logpipe.config.settings", "logpipe.config.load")  # the modules whose names the package answers for


def __getattr__(name: str) -> object:
    """The package's face, imported when first asked for: the settings import report/ and sources/probes/, which
    import config.fields and config.durations, and an eager face would have them import each other half-made."""
    for home in FACE:
        try:
            return getattr(importlib.import_module(home), name)
        except AttributeError:
            continue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
