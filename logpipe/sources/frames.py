"""Deprecated import path: logpipe.sources.frames.

Moved to logpipe.sources.docker.frames (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.sources.docker.frames import *  # noqa: F403

warnings.warn(
    "logpipe.sources.frames moved to logpipe.sources.docker.frames; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
