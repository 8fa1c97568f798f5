"""Deprecated import path: logpipe.sources.ownthread.

Moved to logpipe.sources.docker.ownthread (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.sources.docker.ownthread import *  # noqa: F403

warnings.warn(
    "logpipe.sources.ownthread moved to logpipe.sources.docker.ownthread; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
