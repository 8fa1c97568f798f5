"""Deprecated import path: logpipe.scaffold.

Moved to logpipe.deploy.scaffold (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.deploy.scaffold import *  # noqa: F403

warnings.warn(
    "logpipe.scaffold moved to logpipe.deploy.scaffold; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
