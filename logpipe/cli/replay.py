"""`logpipe replay FILE`: a saved log through the parsers, rules and incidents on event time, its notifications
printed and sent through the outbox, the incident table and a summary on stderr."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

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
from logpipe.console.printers import printer_for
from logpipe.engine import Engine
from logpipe.event import Event
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.views import incident_table
from logpipe.pipeline import Fanout, parse_lines, read_ahead, run_incidents, settle_heap, silences_for
from logpipe.redact import Redactor
from logpipe.sinks.wiring import build_dispatcher, renderer_for
from logpipe.sources.file import origin_of, read_lines


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
    receivers through the outbox."""
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    check_actions_or_fail(config, config_path, ruleset)
    engine = Engine(ruleset)
    dirs = rule_dirs(paths)
    printer = printer_for(output_format, None if no_redact else Redactor(), renderer_for(config, dirs))
    dispatcher = build_dispatcher(config, Redactor(), dirs)
    book = IncidentBook(ruleset, silences_for(config, dispatcher.store if dispatcher is not None else None))
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
            dispatcher.drain(wait)
            dispatcher.stop()
    records = book.snapshot()
    if dispatcher is not None:
        dispatcher.store.progress.save({}, {}, records)
    click.echo(incident_table(records), err=True, nl=False)
    summary = f"{engine.events} events, {len(records)} incidents, {fanout.shown} notifications"
    if fanout.silenced:
        summary += f" ({fanout.silenced} silenced)"
    if engine.disabled:
        summary += "; disabled rules: " + ", ".join(f"{rule} ({why})" for rule, why in engine.disabled.items())
    if dispatcher is not None:
        summary += "; deliveries: " + _delivery_summary(dispatcher.store.outbox.counts())
        dispatcher.store.close()
    click.echo(summary, err=True)


def _written(events: Iterable[Event], out: BinaryIO, redactor: Redactor) -> Iterator[Event]:
    """Each event on its way to the rules, appended to `out` as `logpipe follow --events-out` writes it."""
    for event in events:
        out.write(redactor.event_json(event) + b"\n")
        yield event


def _delivery_summary(counts: dict[tuple[str, str], int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{sink} {state} {count}" for (sink, state), count in sorted(counts.items()))
