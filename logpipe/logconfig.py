"""structlog configuration for Python services (and for logpipe itself): one JSON object per line.

    from logpipe.logconfig import configure_logging
    configure_logging("clip-worker", version="1.4.2")
    structlog.get_logger().info("clip rendered", clip_id="clp_1", duration_ms=812)

Both structlog and the stdlib `logging` module go through one handler, so library logs come out as the same
JSON. Keys are the ones logpipe's JSON parser reads natively: `event` (the message), `level`, `timestamp`
(ISO 8601 UTC), `logger`, plus `service`, `version`, bound contextvars and an `exception` with structured frames.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import orjson
import structlog
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from logpipe.console.inert import inert
from logpipe.redact import Redactor

_STDLIB_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def configure_logging(
    service: str,
    *,
    version: str | None = None,
    level: str = "info",
    json: bool | None = None,
    stream: TextIO | None = None,
    redactor: Redactor | None = None,
    redact: bool = True,
    sentry_dsn: str | None = None,
    sentry_environment: str | None = None,
    sentry_breadcrumb_level: str = "info",
    sentry_event_level: str = "error",
    sentry_include_local_variables: bool = False,
    include_locals: bool = False,
) -> None:
    """Configure structlog and stdlib logging for a service. Safe to call again (tests, reloads).

    json: None renders JSON unless the stream is a TTY (then a readable console view).
    sentry_dsn: when given, records at `sentry_breadcrumb_level` and above become Sentry breadcrumbs and at
    `sentry_event_level` and above Sentry events; the SDK's own logging hooks are turned off so nothing is
    reported twice; every event and breadcrumb passes the redactor last (before_send, before_breadcrumb) unless
    `redact=False`. A sentry-sdk that is missing or of a major logpipe does not support is one warning line, and
    logging goes on without Sentry.
    include_locals: frame local variables go nowhere (the JSON `exception`, the console's traceback, Sentry)
    unless True: they hold what the code was handling (cards, tokens, emails, free text that no pattern knows).
    `sentry_include_local_variables=True` turns them on for Sentry only (as before `include_locals`).
    """
    out = stream or sys.stdout
    as_json = not out.isatty() if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _ServiceAdder(service, version),
        structlog.processors.StackInfoRenderer(),
    ]
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if as_json:
        final.append(ExceptionRenderer(ExceptionDictTransformer(show_locals=include_locals)))
    elif redact:
        final.append(structlog.processors.format_exc_info)  # a traceback as text, so the redactor sees it
    if redact:
        final.append(_RedactProcessor(redactor or Redactor()))
    if not as_json:
        final.append(_inert_strings)  # a terminal: text from elsewhere must not drive it
    final.append(
        structlog.processors.JSONRenderer(serializer=_dumps)
        if as_json
        # redacting, the traceback is text already (format_exc_info above): printed as it is
        else structlog.dev.ConsoleRenderer(
            exception_formatter=structlog.dev.plain_traceback if redact else _console_tracebacks(include_locals)
        )
    )

    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_logpipe", False)]:
        root.removeHandler(old)
    handler._logpipe = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(_STDLIB_LEVELS[level])

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if sentry_dsn:
        try:
            from logpipe.logsentry import install_sentry_bridge
        except ImportError as error:  # no sentry-sdk, or one whose modules moved: log on without Sentry
            root.warning("sentry_dsn is set but Sentry is off: %s; pip install 'logpipe[sentry]'", error)
            return
        install_sentry_bridge(
            root,
            dsn=sentry_dsn,
            environment=sentry_environment,
            release=f"{service}@{version}" if version else None,
            breadcrumb_level=_STDLIB_LEVELS[sentry_breadcrumb_level],
            event_level=_STDLIB_LEVELS[sentry_event_level],
            redactor=(redactor or Redactor()) if redact else None,
            include_local_variables=include_locals or sentry_include_local_variables,
        )


def _console_tracebacks(include_locals: bool) -> structlog.typing.ExceptionRenderer:
    """A terminal's traceback: rich's when installed (structlog's default), with locals only when asked."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return structlog.dev.plain_traceback
    return structlog.dev.RichTracebackFormatter(show_locals=include_locals)


class _ServiceAdder:
    def __init__(self, service: str, version: str | None) -> None:
        self.service, self.version = service, version

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", self.service)
        if self.version:
            event_dict.setdefault("version", self.version)
        return event_dict


class _RedactProcessor:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        return cast(EventDict, self.redactor.payload(event_dict))


def _inert_strings(logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
    return {key: inert(value) if isinstance(value, str) else value for key, value in event_dict.items()}


def _dumps(obj: MutableMapping[str, Any], **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()
