"""Where alerts go, built from the config: the Sentry sink and the notification channels behind the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from logpipe.config.load import destinations, dsn_problem
from logpipe.config.settings import ONCALL_KINDS, ChannelConfig, Config
from logpipe.engine.rules import RuleSet
from logpipe.errors import ConfigError, Location
from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer, sample_payload
from logpipe.sinks.apprise import AppriseChannel
from logpipe.sinks.base import Sink
from logpipe.sinks.dispatcher import Dispatcher, RetryPolicy
from logpipe.sinks.sentry import SentrySink
from logpipe.sinks.webhook import WebhookChannel
from logpipe.state.directory import STATE_FILE
from logpipe.state.store import StateStore


def renderer_for(config: Config, rule_dirs: Sequence[Path] = ()) -> Renderer:
    return Renderer([*config.templates, *(d / "templates" for d in rule_dirs)])


def unknown_actions(config: Config, ruleset: RuleSet) -> list[str]:
    """A problem (file:line, rule, name) for each rule `actions` entry naming no channel of the config: such an
    alert would go nowhere."""
    known = destinations(config)
    problems = []
    for loaded in ruleset.loaded:
        entry = ruleset.entries.get(loaded.rule.info.id)
        origin = (entry.overridden.get("actions") or entry.overridden.get("routes")) if entry is not None else None
        for name in loaded.rule.info.model.actions:
            if name not in known:
                where = f"{loaded.file}:{loaded.line}" if loaded.line else str(loaded.file)
                if origin is not None:  # an override's `routes:`: its own file and line
                    where = f"{origin.file}:{origin.line}"
                problems.append(
                    f"{where}: rules[{loaded.rule.info.id}].actions: unknown channel {name!r}; "
                    f"the config defines: {', '.join(sorted(known))}"
                )
    return problems


def build_sinks(config: Config, renderer: Renderer, store: StateStore | None = None) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {}
    dsn = config.sentry_dsn()
    if dsn:
        problem = dsn_problem(dsn)
        if problem:
            raise ConfigError(Location("sentry.dsn" if config.sentry.dsn else "SENTRY_DSN (environment)"), problem)
        trail = store.outbox.recent_payloads("sentry", config.sentry.max_breadcrumbs) if store is not None else []
        sinks["sentry"] = SentrySink(
            dsn, renderer, config.sentry.environment, config.sentry.release, config.sentry.max_breadcrumbs, trail=trail
        )
    from logpipe.report.attachment import REPORTS_DIR

    for name, channel in config.channels.items():
        if channel.kind in ONCALL_KINDS:
            sinks[name] = _oncall_sink(name, channel, lambda sink: _sent_while_open(store, sink))
            continue
        sinks[name] = channel_for(
            name, channel.urls()[0], channel.kind if channel.kind not in ("email", "apprise") else None, renderer,
            attachments=config.state_dir / REPORTS_DIR,
        )  # fmt: skip
    return sinks


def _sent_while_open(store: StateStore | None, sink: str, limit: int = 5000) -> list[dict[str, Any]]:
    """What a sink was last sent about the incidents still open (by the last checkpoint), oldest first."""
    if store is None:
        return []
    still_open = {record["id"] for record in store.progress.open_incidents()}
    if not still_open:
        return []
    return [payload for payload in store.outbox.recent_payloads(sink, limit) if payload.get("incident") in still_open]


def build_dispatcher(
    config: Config,
    redactor: Redactor,
    rule_dirs: Sequence[Path] = (),
    on_outcome: Callable[[str, str], None] | None = None,
) -> Dispatcher | None:
    """The outbox and its sinks, or None when no receiver is configured (alerts go to the console only)."""
    if not config.sentry_dsn() and not config.channels:
        return None
    store = StateStore(config.state_dir / STATE_FILE, config.outbox.max_pending)
    store.outbox.prune(config.outbox.retention / 1e9)
    sinks = build_sinks(config, renderer_for(config, rule_dirs), store)
    policy = RetryPolicy(
        initial=config.outbox.initial_backoff / 1e9,
        maximum=config.outbox.max_backoff / 1e9,
        max_attempts=config.outbox.max_attempts,
    )

    return Dispatcher(store, sinks, router_for(config), redactor, policy, on_outcome)


def router_for(config: Config) -> Callable[[Notification], list[str]]:
    """Where a notification goes: its rule's `actions`, else the config's route for its severity."""

    def route(notification: Notification) -> list[str]:
        return list(notification.actions) if notification.actions else config.sinks_for(notification.severity)

    return route


def send_test_notification(sink: Sink) -> None:
    """A sample alert through one sink, now (`notify test`, `doctor --send`); DeliveryError when refused."""
    import uuid

    payload = sample_payload()
    payload.update(title="logpipe test notification", sentry="event", id=uuid.uuid4().hex)
    sink.deliver(payload)


def _oncall_sink(name: str, channel: ChannelConfig, sent_before: Callable[[str], list[dict[str, Any]]]) -> Sink:
    """The sink of an `alertmanager` or `pagerduty` channel. `sent_before(name)`: the payloads this channel was
    sent before a restart, oldest first, of incidents still open (Alertmanager posts them again at once)."""
    if channel.kind == "alertmanager":
        from logpipe.sinks.alertmanager import RESEND_INTERVAL, AlertmanagerSink

        return AlertmanagerSink(
            name,
            channel.urls(),
            resend_interval=RESEND_INTERVAL if channel.resend is None else channel.resend / 1e9,
            labels=channel.labels,
            resume=sent_before(name),
        )
    from logpipe.sinks.pagerduty import PagerDutySink

    assert channel.routing_key is not None  # checked at load (channel_problem)
    return PagerDutySink(name, channel.routing_key, channel.urls()[0])


def channel_for(
    name: str, url: str, kind: str | None, renderer: Renderer, attachments: Path | None = None
) -> WebhookChannel | AppriseChannel:
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        chosen = kind or ("slack" if "hooks.slack.com" in url else "webhook")
        if chosen not in ("slack", "webhook"):
            raise ValueError(f"channel {name}: an http(s) URL is a slack or webhook channel, not {chosen}")
        return WebhookChannel(name, url, chosen, renderer)
    return AppriseChannel(name, url, renderer, attachments)
