"""Deprecated import path: logpipe.sinks.console.

Moved to logpipe.console.printers (issue 26), where `ConsoleSink` is `ConsolePrinter` (a printer:
`show(notification)`). This
module imports from there, with a DeprecationWarning, until the next release.
"""

import warnings

from logpipe.console.printers import *  # noqa: F403
from logpipe.console.printers import ConsolePrinter

ConsoleSink = ConsolePrinter

warnings.warn(
    "logpipe.sinks.console moved to logpipe.console.printers (ConsoleSink is ConsolePrinter); import it from there",
    DeprecationWarning,
    stacklevel=2,
)
