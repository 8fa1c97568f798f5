"""Deprecated import path: logpipe.inert.

Moved to logpipe.console.inert (issue 26). This module imports from there, with a DeprecationWarning, until the next
release.
"""

import warnings

from logpipe.console.inert import *  # noqa: F403

warnings.warn(
    "logpipe.inert moved to logpipe.console.inert; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
