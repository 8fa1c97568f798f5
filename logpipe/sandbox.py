"""Deprecated import path: logpipe.sandbox.

Moved to logpipe.render.sandbox (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.render.sandbox import *  # noqa: F403

warnings.warn(
    "logpipe.sandbox moved to logpipe.render.sandbox; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
