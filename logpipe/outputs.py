"""Deprecated import path: logpipe.outputs.

Moved to logpipe.sinks.wiring (issue 26). This module imports from there, with a DeprecationWarning, until the next
release.
"""

import warnings

from logpipe.sinks.wiring import *  # noqa: F403

warnings.warn(
    "logpipe.outputs moved to logpipe.sinks.wiring; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
