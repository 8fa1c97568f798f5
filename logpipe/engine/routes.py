"""Deprecated import path: logpipe.engine.routes.

Moved to logpipe.engine.metrics.paths (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.engine.metrics.paths import *  # noqa: F403

warnings.warn(
    "logpipe.engine.routes moved to logpipe.engine.metrics.paths; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
