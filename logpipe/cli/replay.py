"""`logpipe replay FILE`: a saved log through the parsers, rules and incidents on event time, its notifications
printed and sent through the outbox, the incident table and a summary on stderr."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from logpipe.cli.options import (
    check_actions_or_fail,
    config_option,
    config_or_fail,
    events_out_option,
    format_option,
    load_or_fail,
    rule_dirs,
    rules_option,
    source_name_option,
)
from logpipe.cli.params import DurationParam
from logpipe.cli.waiting import Waiting
from logpipe.console.printers import printer_for
from logpipe.engine import Engine
from logpipe.event import Event
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import notification_id
from logpipe.incidents.views import incident_table
from logpipe.pipeline import Fanout, parse_lines, read_ahead, run_incidents, settle_heap, silences_for
from logpipe.redact import Redactor
from logpipe.sinks.dispatcher import Dispatcher
from logpipe.sinks.wiring import build_dispatcher, renderer_for
from logpipe.sources.file import origin_of, read_lines
from logpipe.state.store import StateStore

UNDELIVERED = 3  # the exit code when notifications are left undelivered at the end (waiting, or dead-lettered)


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@rules_option
@config_option
@format_option("auto: human on a terminal, JSON lines otherwise.")
@click.option("--no-redact", is_flag=True, help="Show secrets in printed alerts (what is sent is always redacted).")
@click.option(
    "--wait",
    type=DurationParam("s"),
    default=30.0,
    show_default=True,
    help="How long to wait at the end for deliveries (30s, 2m; a bare number: seconds); the rest stays in the outbox.",
)
@source_name_option
@events_out_option
def replay(
    source: BinaryIO,
    rule_paths: tuple[Path, ...],
    config_path: Path | None,
    output_format: str,
    no_redact: bool,
    wait: float,
    source_name: str | None,
    events_out: BinaryIO | None,
) -> None:
    """Run a saved log (FILE, or - for stdin; Docker timestamp prefixes or json-file records are understood)
    through the parsers and rules, print the alerts it fires on event time, and send them to the configured
    receivers through the outbox.

    Exit code 0 when every notification was delivered (or there is no receiver); 3 when some were not by the end
    of --wait (a receiver down or refusing): they wait in the outbox, and the summary says how many and where."""
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    check_actions_or_fail(config, config_path, ruleset)
    engine = Engine(ruleset)
    dirs = rule_dirs(paths)
    printer = printer_for(output_format, None if no_redact else Redactor(), renderer_for(config, dirs))
    dispatcher = build_dispatcher(config, Redactor(), dirs)
    book = IncidentBook(ruleset, silences_for(config, dispatcher.store if dispatcher is not None else None))
    dead_before = _dead(dispatcher.store.outbox.counts()) if dispatcher is not None else {}
    if dispatcher is not None:
        dispatcher.start()
    fanout = Fanout(printer.show, dispatcher.enqueue if dispatcher is not None else None)
    events = parse_lines(read_lines(source, origin_of(source, source_name)))
    if events_out is not None:
        events = _written(events, events_out, Redactor())
    settle_heap()
    try:
        for notification in run_incidents(read_ahead(events, engine), engine, book):
            fanout.send(notification)
    finally:
        if events_out is not None:
            events_out.flush()
        if dispatcher is not None:
            _drain(dispatcher, wait)
            dispatcher.stop()
    records = book.snapshot()
    if dispatcher is not None:
        dispatcher.store.progress.save({}, {}, records)
        records = _delivery_outcomes(records, dispatcher.store)
    click.echo(incident_table(records), err=True, nl=False)
    summary = f"{engine.events} events, {len(records)} incidents, {fanout.shown} notifications"
    if fanout.silenced:
        summary += f" ({fanout.silenced} silenced)"
    if engine.disabled:
        summary += "; disabled rules: " + ", ".join(f"{rule} ({why})" for rule, why in engine.disabled.items())
    undelivered = ""
    if dispatcher is not None:
        counts = dispatcher.store.outbox.counts()
        summary += "; deliveries: " + _delivery_summary(counts)
        undelivered = _undelivered(counts, dead_before, dispatcher.store.path, config_path)
        dispatcher.store.close()
    click.echo(summary, err=True)
    if undelivered:
        click.echo(undelivered, err=True)
        raise SystemExit(UNDELIVERED)


def _drain(dispatcher: Dispatcher, wait: float) -> None:
    """Wait up to `wait` seconds for the deliveries, saying what for once it takes more than 2 s."""
    with Waiting("deliveries", total=None) as waiting:
        dispatcher.drain(
            wait, lambda left: waiting.update(f"{left} deliveries to the receivers (up to {wait:g} s: --wait)")
        )


def _dead(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    return {sink: count for (sink, state), count in counts.items() if state == "dead"}


def _undelivered(
    counts: dict[tuple[str, str], int], dead_before: dict[str, int], store: Path, config_path: Path | None
) -> str:
    """What is left undelivered at the end and where it waits ('' when nothing is)."""
    pending = {sink: count for (sink, state), count in counts.items() if state == "pending" and count}
    dead = {sink: count - dead_before.get(sink, 0) for sink, count in _dead(counts).items()}
    dead = {sink: count for sink, count in dead.items() if count > 0}
    if not pending and not dead:
        return ""
    config = f" --config {config_path}" if config_path is not None else ""
    parts = []
    if pending:
        per_sink = ", ".join(f"{count} for {sink}" for sink, count in sorted(pending.items()))
        parts.append(
            f"{sum(pending.values())} wait in the outbox ({store}): {per_sink}; they are retried by the next "
            f"`logpipe replay` or `logpipe follow` on this state directory (`logpipe outbox{config}` lists them)"
        )
    if dead:
        per_sink = ", ".join(f"{count} for {sink}" for sink, count in sorted(dead.items()))
        parts.append(f"{sum(dead.values())} refused for good: {per_sink} (`logpipe outbox{config} --dead` says why)")
    total = sum(pending.values()) + sum(dead.values())
    return f"{total} deliveries not made: " + "; ".join(parts)


def _delivery_outcomes(records: list[dict[str, Any]], store: StateStore) -> list[dict[str, Any]]:
    """The incident table's last notification as delivered, not as made: `queued` while it waits in the outbox,
    `failed` when dead-lettered (a notification routed to no receiver stays `sent`: printed)."""
    states: dict[str, set[str]] = {}
    for row in store.outbox.deliveries():
        states.setdefault(row["alert_id"], set()).add(row["state"])
    shown = []
    for record in records:
        outcome = record["last_outcome"]
        if outcome == "sent":
            made = states.get(notification_id(record["id"], record["seq"], record["last_kind"]), set())
            outcome = "queued" if "pending" in made else ("failed" if "dead" in made else "sent")
        shown.append({**record, "last_outcome": outcome})
    return shown


def _written(events: Iterable[Event], out: BinaryIO, redactor: Redactor) -> Iterator[Event]:
    """Each event on its way to the rules, appended to `out` as `logpipe follow --events-out` writes it."""
    for event in events:
        out.write(redactor.event_json(event) + b"\n")
        yield event


def _delivery_summary(counts: dict[tuple[str, str], int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{sink} {state} {count}" for (sink, state), count in sorted(counts.items()))
