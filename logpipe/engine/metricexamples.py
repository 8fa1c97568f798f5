"""Deprecated import path: logpipe.engine.metricexamples.

Moved to logpipe.engine.metrics.examples (issue 26). This module imports from there, with a DeprecationWarning,
until the next release.
"""

import warnings

from logpipe.engine.metrics.examples import *  # noqa: F403

warnings.warn(
    "logpipe.engine.metricexamples moved to logpipe.engine.metrics.examples; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
