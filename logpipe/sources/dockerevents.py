"""Deprecated import path: logpipe.sources.dockerevents.

Moved to logpipe.sources.docker.events (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.sources.docker.events import *  # noqa: F403

warnings.warn(
    "logpipe.sources.dockerevents moved to logpipe.sources.docker.events; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
