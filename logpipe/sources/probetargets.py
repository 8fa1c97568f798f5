"""Deprecated import path: logpipe.sources.probetargets.

Moved to logpipe.sources.probes.targets (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.sources.probes.targets import *  # noqa: F403

warnings.warn(
    "logpipe.sources.probetargets moved to logpipe.sources.probes.targets; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
