"""Deprecated import path: logpipe.sources.stats.

Moved to logpipe.sources.probes.stats (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.sources.probes.stats import *  # noqa: F403

warnings.warn(
    "logpipe.sources.stats moved to logpipe.sources.probes.stats; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
