"""Deprecated import path: logpipe.follow.

Moved to logpipe.agent.follower, logpipe.agent.stats, logpipe.agent.reload, logpipe.agent.held,
logpipe.agent.readers (issue 26). This module imports from there, with a DeprecationWarning, until the next release.
"""

import warnings

from logpipe.agent.follower import *  # noqa: F403
from logpipe.agent.held import *  # noqa: F403
from logpipe.agent.readers import *  # noqa: F403
from logpipe.agent.reload import *  # noqa: F403
from logpipe.agent.stats import *  # noqa: F403

warnings.warn(
    "logpipe.follow moved to logpipe.agent.follower, logpipe.agent.stats, logpipe.agent.reload, "
    "logpipe.agent.held, logpipe.agent.readers; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
