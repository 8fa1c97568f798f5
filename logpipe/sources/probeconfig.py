"""Deprecated import path: logpipe.sources.probeconfig.

Moved to logpipe.sources.probes.config (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.sources.probes.config import *  # noqa: F403

warnings.warn(
    "logpipe.sources.probeconfig moved to logpipe.sources.probes.config; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
