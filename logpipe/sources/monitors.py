"""Deprecated import path: logpipe.sources.monitors.

Moved to logpipe.agent.monitors (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.agent.monitors import *  # noqa: F403

warnings.warn(
    "logpipe.sources.monitors moved to logpipe.agent.monitors; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
