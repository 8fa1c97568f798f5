"""Sentry wiring for configure_logging: log records become breadcrumbs and events, each exactly once.

sentry-sdk's LoggingIntegration reads `record.msg` as the message, but records from structlog carry the whole
event dict there; so its automatic handlers are turned off and this one handler reports instead, with the
event dict's text as the message and its keys as data. Every event and breadcrumb the SDK is about to send
passes the redactor whole (before_send, before_breadcrumb), and frame locals are not collected unless asked.

sentry-sdk 2.x and 3.x are both supported: 3.0 removed `include_local_variables` and `send_default_pii` for one
`data_collection` option whose defaults collect more (frame variables, user info, bodies), and gave breadcrumbs
their own level in LoggingIntegration. `client_options` says, per major, what keeps 2.x's private defaults. Any
other major is refused with one log line, and the service goes on logging without Sentry: a logging library must
never stop a service from starting.
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


SUPPORTED_MAJORS = (2, 3)


def sdk_major() -> int | None:
    """sentry-sdk's major version, or None when its version string is not a release number."""
    head = str(getattr(sentry_sdk, "VERSION", "")).split(".", 1)[0]
    return int(head) if head.isdigit() else None


def client_options(major: int, include_local_variables: bool) -> dict[str, Any]:
    """What `sentry_sdk.init` is given, besides the DSN and hooks, to send what 2.x sends by default (no PII,
    no bodies) plus frame locals only when asked; and to turn the SDK's own logging handlers off."""
    if major == 2:
        return {
            "include_local_variables": include_local_variables,
            "integrations": [LoggingIntegration(level=None, event_level=None)],  # ours reports instead
        }
    # 3.x: no send_default_pii; each category is opted out of explicitly, as send_default_pii=False did
    return {
        "data_collection": {
            "stack_frame_variables": include_local_variables,
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "database_query_data": False,
            "gen_ai": {"inputs": False, "outputs": False},
            "mcp": {"inputs": False, "outputs": False},
        },
        # level: Sentry's "logs" product; breadcrumb_level and event_level: the handlers ours replaces
        "integrations": [LoggingIntegration(level=None, event_level=None, breadcrumb_level=None)],  # type: ignore[call-arg,unused-ignore]
    }


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
) -> SentryBridge | None:
    """Start the SDK and add the bridge to `root`; None (and one warning on `root`) when this sentry-sdk is a
    major logpipe does not know, or refuses the options: the service logs on, without Sentry."""
    major = sdk_major()
    if major is None or major not in SUPPORTED_MAJORS:
        _refuse(root, f"sentry-sdk {sentry_sdk.VERSION} is not supported")
        return None
    try:
        sentry_sdk.init(  # type: ignore[call-overload,unused-ignore]
            dsn=dsn,
            environment=environment,
            release=release,
            # frame locals hold what the code was handling (cards, tokens, emails): only when asked for
            **client_options(major, include_local_variables),
            # the last step before anything leaves: the whole event, whatever the SDK or an integration put in it
            before_send=_redacting(redactor),
            before_breadcrumb=_redacting(redactor),
        )
    except (TypeError, ValueError) as error:  # an SDK release that renamed or dropped an option we pass
        _refuse(root, f"sentry-sdk {sentry_sdk.VERSION} refused logpipe's options ({error})")
        return None
    for old in [h for h in root.handlers if isinstance(h, SentryBridge)]:
        root.removeHandler(old)
    bridge = SentryBridge(breadcrumb_level, event_level, redactor)
    root.addHandler(bridge)
    return bridge


def _refuse(root: logging.Logger, why: str) -> None:
    supported = " or ".join(f"{major}.x" for major in SUPPORTED_MAJORS)
    pin = f"sentry-sdk>={SUPPORTED_MAJORS[0]},<{SUPPORTED_MAJORS[-1] + 1}"
    root.warning(
        "%s; logging goes on without Sentry: logpipe supports sentry-sdk %s, pin %r (pip install 'logpipe[sentry]')",
        why,
        supported,
        pin,
    )
