"""Deprecated import path: logpipe.sinks.notify.

Moved to logpipe.sinks.webhook, logpipe.sinks.apprise, logpipe.sinks.wiring (issue 26). This module imports from
there, with a DeprecationWarning, until the next release.
"""

import warnings

from logpipe.sinks.apprise import *  # noqa: F403
from logpipe.sinks.webhook import *  # noqa: F403
from logpipe.sinks.wiring import *  # noqa: F403

warnings.warn(
    "logpipe.sinks.notify moved to logpipe.sinks.webhook, logpipe.sinks.apprise, "
    "logpipe.sinks.wiring; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
