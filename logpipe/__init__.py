"""logpipe: follow Docker logs, parse them into structured events, match rules, forward alerts.

Services import only what they need from here: `configure_logging` (their structlog setup) and `Event`.
"""

from logpipe.event import Event
from logpipe.logconfig import configure_logging

__all__ = ["Event", "configure_logging"]
