"""Deprecated import path: logpipe.doctor.

Moved to logpipe.deploy.doctor (issue 26). This module imports from there, with a DeprecationWarning, until the next
release.
"""

import warnings

from logpipe.deploy.doctor import *  # noqa: F403

warnings.warn(
    "logpipe.doctor moved to logpipe.deploy.doctor; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
