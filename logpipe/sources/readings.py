"""Deprecated import path: logpipe.sources.readings.

Moved to logpipe.sources.probes.readings (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.sources.probes.readings import *  # noqa: F403

warnings.warn(
    "logpipe.sources.readings moved to logpipe.sources.probes.readings; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
