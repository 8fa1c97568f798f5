"""Deprecated import path: logpipe.sources.jsonfile.

Moved to logpipe.sources.docker.jsonfile (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.sources.docker.jsonfile import *  # noqa: F403

warnings.warn(
    "logpipe.sources.jsonfile moved to logpipe.sources.docker.jsonfile; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
