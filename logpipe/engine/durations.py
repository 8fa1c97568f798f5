"""Deprecated import path: logpipe.engine.durations.

Moved to logpipe.config.durations (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.config.durations import *  # noqa: F403

warnings.warn(
    "logpipe.engine.durations moved to logpipe.config.durations; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
