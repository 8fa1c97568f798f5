"""Deprecated import path: logpipe.engine.metricschema.

Moved to logpipe.engine.metrics.schema (issue 26). This module imports from there, with a DeprecationWarning, until
the next release.
"""

import warnings

from logpipe.engine.metrics.schema import *  # noqa: F403

warnings.warn(
    "logpipe.engine.metricschema moved to logpipe.engine.metrics.schema; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
