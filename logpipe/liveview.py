"""Deprecated import path: logpipe.liveview.

Moved to logpipe.console.liveview (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.console.liveview import *  # noqa: F403

warnings.warn(
    "logpipe.liveview moved to logpipe.console.liveview; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
