"""Deprecated import path: logpipe.sources.healthbody.

Moved to logpipe.sources.probes.healthbody (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.sources.probes.healthbody import *  # noqa: F403

warnings.warn(
    "logpipe.sources.healthbody moved to logpipe.sources.probes.healthbody; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
