"""Deprecated import path: logpipe.statedir.

Moved to logpipe.state.directory (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.state.directory import *  # noqa: F403

warnings.warn(
    "logpipe.statedir moved to logpipe.state.directory; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
