"""Sentry wiring for configure_logging: log records become breadcrumbs and events, each exactly once.

sentry-sdk's LoggingIntegration reads `record.msg` as the message, but records from structlog carry the whole
event dict there; so its automatic handlers are turned off and this one handler reports instead, with the
event dict's text as the message and its keys as data. Every event and breadcrumb the SDK is about to send
passes the redactor whole (before_send, before_breadcrumb), and frame locals are not collected unless asked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

from logpipe.redact import Redactor

SentryLevel = Literal["fatal", "critical", "error", "warning", "info", "debug"]
_SENTRY_LEVELS: dict[int, SentryLevel] = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "fatal"}
_RECORD_KEYS = {
    "event",
    "level",
    "timestamp",
    "logger",
    "exception",
    "exc_info",
    "_record",
    "_from_structlog",
}


class SentryBridge(logging.Handler):
    def __init__(self, breadcrumb_level: int, event_level: int, redactor: Redactor | None) -> None:
        super().__init__(level=breadcrumb_level)
        self.event_level, self.redactor = event_level, redactor

    def emit(self, record: logging.LogRecord) -> None:
        message, data = _message_and_data(record)
        if self.redactor is not None:
            message, data = self.redactor.text(message), self.redactor.mapping(data)
        level = _SENTRY_LEVELS.get(record.levelno - record.levelno % 10, "error")
        if record.levelno >= self.event_level:
            tags = {"logger": record.name}
            if record.exc_info and record.exc_info[0] is not None:
                sentry_sdk.capture_exception(record.exc_info, level=level, extras=data, tags=tags)
            else:
                sentry_sdk.capture_message(message, level=level, extras=data, tags=tags)
        else:
            sentry_sdk.add_breadcrumb(category=record.name, message=message, level=level, data=data)


def _message_and_data(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    if isinstance(record.msg, Mapping):  # a structlog event dict
        data = {k: v for k, v in record.msg.items() if k not in _RECORD_KEYS}
        return str(record.msg.get("event", "")), data
    return record.getMessage(), {}


def _redacting(redactor: Redactor | None) -> Any:
    if redactor is None:
        return None

    def redact(item: Any, hint: Any) -> Any:
        return redactor.payload(item)

    return redact


def install_sentry_bridge(
    root: logging.Logger,
    *,
    dsn: str,
    environment: str | None,
    release: str | None,
    breadcrumb_level: int,
    event_level: int,
    redactor: Redactor | None,
    include_local_variables: bool = False,
) -> SentryBridge:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[LoggingIntegration(level=None, event_level=None)],  # ours reports instead
        # frame locals hold what the code was handling (cards, tokens, emails): only when asked for
        include_local_variables=include_local_variables,
        # the last step before anything leaves: the whole event, whatever the SDK or an integration put in it
        before_send=_redacting(redactor),
        before_breadcrumb=_redacting(redactor),
    )
    for old in [h for h in root.handlers if isinstance(h, SentryBridge)]:
        root.removeHandler(old)
    bridge = SentryBridge(breadcrumb_level, event_level, redactor)
    root.addHandler(bridge)
    return bridge
