"""Deprecated import path: logpipe.sinks.outbox.

Moved to logpipe.sinks.dispatcher (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.sinks.dispatcher import *  # noqa: F403

warnings.warn(
    "logpipe.sinks.outbox moved to logpipe.sinks.dispatcher; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
