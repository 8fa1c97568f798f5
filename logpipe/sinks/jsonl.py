"""Deprecated import path: logpipe.sinks.jsonl.

Moved to logpipe.console.printers (issue 26), where `JsonLinesSink` is `JsonLinesPrinter` (a printer:
`show(notification)`). This
module imports from there, with a DeprecationWarning, until the next release.
"""

import warnings

from logpipe.console.printers import *  # noqa: F403
from logpipe.console.printers import JsonLinesPrinter

JsonLinesSink = JsonLinesPrinter

warnings.warn(
    "logpipe.sinks.jsonl moved to logpipe.console.printers (JsonLinesSink is JsonLinesPrinter); import it from there",
    DeprecationWarning,
    stacklevel=2,
)
