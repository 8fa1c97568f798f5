"""Deprecated import path: logpipe.sources.readinglog.

Moved to logpipe.sources.probes.readinglog (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.sources.probes.readinglog import *  # noqa: F403

warnings.warn(
    "logpipe.sources.readinglog moved to logpipe.sources.probes.readinglog; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
