"""Deprecated import path: logpipe.engine.metricexport.

Moved to logpipe.engine.metrics.export (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.engine.metrics.export import *  # noqa: F403

warnings.warn(
    "logpipe.engine.metricexport moved to logpipe.engine.metrics.export; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
