"""Deprecated import path: logpipe.output.

Moved to logpipe.console.events (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.console.events import *  # noqa: F403

warnings.warn(
    "logpipe.output moved to logpipe.console.events; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
