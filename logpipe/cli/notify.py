"""`logpipe notify test`, `logpipe render`, `logpipe outbox`: check the wiring and the templates, see the queue."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import orjson

from logpipe.cli.options import (
    config_option,
    config_or_fail,
    load_or_fail,
    output_option,
    rule_dirs,
    rule_or_fail,
    rules_option,
)
from logpipe.cli.params import complete_rule_ids
from logpipe.engine.examples import parse_example
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.rules import RuleSet
from logpipe.redact import Redactor
from logpipe.render.renderer import KINDS, TemplateProblem
from logpipe.sinks.base import DeliveryError
from logpipe.sinks.sentry import mask_dsn
from logpipe.sinks.wiring import build_sinks, renderer_for, send_test_notification
from logpipe.state.directory import STATE_FILE
from logpipe.state.store import StateStore


@click.group()
def notify() -> None:
    """Check notification channels."""


@notify.command(name="test")
@click.argument("channel")
@config_option
def notify_test(channel: str, config_path: Path | None) -> None:
    """Send a sample alert through CHANNEL (a name from the config, or `sentry`) right away."""
    config = config_or_fail(config_path)
    sinks = build_sinks(config, renderer_for(config))
    if channel not in sinks:
        known = ", ".join(sorted(sinks)) or "none configured"
        raise click.ClickException(
            f"no channel {channel!r} (channels: {known}; sentry is {mask_dsn(config.sentry_dsn())})"
        )
    try:
        send_test_notification(sinks[channel])
    except DeliveryError as error:
        raise click.ClickException(f"{channel}: {error}") from None
    click.echo(f"sent a test alert to {channel}")


@click.command()
@click.argument("rule_id", shell_complete=complete_rule_ids)
@click.option("--line", help="A log line to build the alert from (default: the rule's first example).")
@click.option("--kind", type=click.Choice(sorted(KINDS)), multiple=True, help="Only these templates.")
@rules_option
@config_option
def render(
    rule_id: str, line: str | None, kind: tuple[str, ...], rule_paths: tuple[Path, ...], config_path: Path | None
) -> None:
    """Preview the notifications RULE_ID would send, rendered from its templates, without sending."""
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    rule_or_fail(ruleset, rule_id, "RULE_ID")
    if rule_id not in ruleset.index:
        raise click.BadParameter(f"rule {rule_id!r} is switched off (enabled: false)", param_hint="RULE_ID")
    rule = ruleset.rule(rule_id)
    events = parse_example(line or rule.info.model.examples.match[0], time.time_ns())
    renderer = renderer_for(config, rule_dirs(paths))
    for payload in _preview_payloads(ruleset, rule, events[0] if events else None):
        for name in kind or KINDS:
            template = renderer.template_name(name, rule.info.template)
            click.echo(click.style(f"--- {payload['status']}: {name} ({template})", bold=True))
            try:
                click.echo(renderer.render(name, payload, rule.info.template).rstrip())
            except TemplateProblem as problem:
                raise click.ClickException(str(problem)) from None


@click.command()
@config_option
@click.option("--dead", is_flag=True, help="List dead-lettered deliveries.")
@click.option("--prune", is_flag=True, help="Delete delivered rows older than the config's outbox.retention.")
@output_option
def outbox(config_path: Path | None, dead: bool, prune: bool, output: str) -> None:
    """Deliveries in the outbox, per sink and state (-o json: one object per sink and state, and per dead
    delivery)."""
    config = config_or_fail(config_path)
    store = StateStore.find_beside(config.state_dir)
    if store is None:
        if output == "table":
            click.echo(f"no outbox yet at {config.state_dir / STATE_FILE}")
        return
    if prune:
        deleted = store.outbox.prune(config.outbox.retention / 1e9)
        click.echo(
            f"pruned {deleted} delivered rows older than {config.outbox.retention / 1e9:g} s", err=output == "json"
        )
    for (sink, state), count in sorted(store.outbox.counts().items()):
        if output == "json":
            click.echo(orjson.dumps({"sink": sink, "state": state, "count": count}).decode())
        else:
            click.echo(f"{sink:<20} {state:<10} {count}")
    if dead:
        for row in store.outbox.deliveries("dead"):
            if output == "json":
                keys = ("alert_id", "sink", "attempts", "last_error")
                click.echo(orjson.dumps({"dead": True, **{key: row[key] for key in keys}}).decode())
                continue
            click.echo(
                f"dead: {row['alert_id']} -> {row['sink']} after {row['attempts']} attempts: {row['last_error']}"
            )
    store.close()


def _preview_payloads(ruleset: RuleSet, rule: CompiledRule, event: object) -> list[dict[str, Any]]:
    """The rule's first notification and its resolution, from one matching line (as an incident would make
    them), redacted as they would be sent."""
    from logpipe.event import Event
    from logpipe.incidents.book import IncidentBook

    at = event.time if isinstance(event, Event) else 0
    alert = rule.alert(
        "firing",
        at,
        rule.group_of(event, {}) if isinstance(event, Event) else (),
        event.message.split("\n", 1)[0] if isinstance(event, Event) else rule.info.title,
        event=event if isinstance(event, Event) else None,
    )
    book = IncidentBook(ruleset)
    made = book.observe_all([alert]) + book.finish(at + rule.info.model.throttle)
    redactor = Redactor()
    return [redactor.payload(notification.to_dict()) for notification in made[:1] + made[-1:]]
