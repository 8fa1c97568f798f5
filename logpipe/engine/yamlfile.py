"""Deprecated import path: logpipe.engine.yamlfile.

Moved to logpipe.config.yamlfile (issue 26). This module imports from there, with a DeprecationWarning, until the
next release.
"""

import warnings

from logpipe.config.yamlfile import *  # noqa: F403

warnings.warn(
    "logpipe.engine.yamlfile moved to logpipe.config.yamlfile; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
