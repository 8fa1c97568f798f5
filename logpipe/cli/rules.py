"""`logpipe rules ...`: check, test, list, show, schema and explain rules, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import click
import orjson

from logpipe.cli.options import (
    check_actions_or_fail,
    config_option,
    config_or_fail,
    load_or_fail,
    output_option,
    rule_option,
    rule_or_fail,
    rule_paths_or_deprecated,
    rules_option,
)
from logpipe.cli.params import complete_rule_ids
from logpipe.cli.rulestest import explain_event, test
from logpipe.console.inert import inert
from logpipe.engine import Engine
from logpipe.engine.conditions import PRIVATE_KEYS
from logpipe.engine.examples import holds, parse_example
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.rules import RuleSet
from logpipe.engine.schema import json_schema
from logpipe.event import format_time
from logpipe.pipeline import parse_lines
from logpipe.sources.file import origin_of, read_lines


@click.group()
def rules() -> None:
    """Check, test, list, show and explain rules, offline."""


rules.add_command(test)
#: the older spelling, `logpipe rules check DIR`: still read, with a note (rule_paths_or_deprecated)
paths_argument = click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))


def ruleset_of(
    paths: tuple[Path, ...], rule_paths: tuple[Path, ...], config_path: Path | None, command: str
) -> RuleSet:
    """The rules a `rules` subcommand works on: --rules (or the old PATHS), else the config's, else the pack."""
    config = config_or_fail(config_path)
    return load_or_fail(rule_paths_or_deprecated(paths, rule_paths, command) or tuple(config.rules))


@rules.command()
@paths_argument
@rules_option
@config_option
@click.option(
    "--strict", is_flag=True, help="Warnings are errors (exit code 1): a condition on a field no event carries."
)
def check(paths: tuple[Path, ...], rule_paths: tuple[Path, ...], config_path: Path | None, strict: bool) -> None:
    """Validate the rules (--rules, else the config's `rules:`, else the shipped pack); report every problem with
    file:line and field. With --config, also the config: each rule's `actions` must name a channel and each
    maintenance window's `rules:` a rule. Warns about conditions on fields no event carries (--strict: errors)."""
    from logpipe.engine.fieldcheck import field_warnings

    config = config_or_fail(config_path)
    ruleset = load_or_fail(rule_paths_or_deprecated(paths, rule_paths, "check") or tuple(config.rules))
    check_actions_or_fail(config, config_path, ruleset)
    warnings = field_warnings(ruleset)
    for warning in warnings:
        click.echo(f"{'error' if strict else 'warning'}: {warning}", err=True)
    if strict and warnings:
        raise click.ClickException(f"{len(warnings)} problem(s) in the rules (--strict)")
    entries = ruleset.entries.values()
    files = len({entry.defined.file for entry in entries} | {w.file for e in entries for w in e.overridden.values()})
    off = len(ruleset.entries) - len(ruleset.rules)
    click.echo(
        f"ok: {len(ruleset.rules)} rules{f' ({off} switched off)' if off else ''}, {len(ruleset.extractors)} "
        f"extractors and {len(ruleset.metrics)} metrics in {files} files"
        + (f"; {len(warnings)} warning(s)" if warnings else "")
    )


@rules.command(name="list")
@paths_argument
@rules_option
@config_option
@output_option
def list_rules(paths: tuple[Path, ...], rule_paths: tuple[Path, ...], config_path: Path | None, output: str) -> None:
    """One line per rule: id, kind, severity, on or off, title, and where it comes from (its file, and the files
    that changed which of its settings)."""
    from logpipe.engine.showrule import describe_origin, listing

    ruleset = ruleset_of(paths, rule_paths, config_path, "list")
    for entry in ruleset.entries.values():
        if output == "json":
            click.echo(orjson.dumps(listing(entry)).decode())
            continue
        state = "on" if entry.enabled else "off"
        click.echo(
            f"{entry.id:<40} {entry.kind:<10} {entry.model.severity:<9} {state:<3} {entry.model.title}  "
            f"[{describe_origin(entry)}]"
        )


@rules.command()
@click.argument("rule_id", metavar="ID", shell_complete=complete_rule_ids)
@rules_option
@config_option
def show(rule_id: str, rule_paths: tuple[Path, ...], config_path: Path | None) -> None:
    """The effective rule ID as YAML: every setting in force, each with the file and line it came from (and what
    an override replaced)."""
    from logpipe.engine.showrule import effective_yaml

    ruleset = ruleset_of((), rule_paths, config_path, "show")
    rule_or_fail(ruleset, rule_id, "ID")
    click.echo(effective_yaml(ruleset.entries[rule_id]), nl=False)


@rules.command()
def schema() -> None:
    """Print the JSON Schema of rule files (point your editor's YAML plugin at it)."""
    click.echo(json.dumps(json_schema(), indent=2))


@rules.command()
@click.argument("line", required=False)
@click.option("--file", "log_file", type=click.File("rb"), help="Replay a log and explain the rules' decisions.")
@rule_option
@rules_option
@config_option
def explain(
    line: str | None, log_file: BinaryIO | None, rule_id: str | None, rule_paths: tuple[Path, ...],
    config_path: Path | None,
) -> None:  # fmt: skip
    """Why rules match a LINE or not; or, with --file, when and why they fired over a whole log."""
    ruleset = ruleset_of((), rule_paths, config_path, "explain")
    if rule_id is not None:
        rule_or_fail(ruleset, rule_id, "--rule")
        if rule_id not in ruleset.index:
            raise click.BadParameter(f"rule {rule_id!r} is switched off (enabled: false)", param_hint="--rule")
    chosen = [ruleset.rule(rule_id)] if rule_id else list(ruleset.rules)
    if log_file is not None:
        _explain_file(ruleset, chosen, log_file, origin_of(log_file))
        return
    if line is None:
        raise click.UsageError("give a LINE, or --file")
    events = parse_example(line)
    click.echo(f"parsed into {len(events)} event(s)")
    for event in events:
        click.echo(
            f"event: parser={event.parser} level={event.level} logger={event.logger!r} message={event.message[:120]!r}"
        )
        values = ruleset.values_for(event)
        extracted = {k: v for k, v in values.items() if k not in PRIVATE_KEYS}
        if extracted:
            click.echo(f"extracted: {extracted}")
        for rule in chosen:
            matched = holds(ruleset, ruleset.index[rule.info.id], event, values)
            mark = click.style("MATCH", fg="green") if matched else "no   "
            click.echo(f"{mark} {rule.info.id} ({rule.kind}, {rule.info.severity})")
            if matched or rule_id:
                for text in explain_event(ruleset, rule, event, values):
                    click.echo("      " + inert(text))


def _explain_file(ruleset: RuleSet, chosen: list[CompiledRule], log_file: BinaryIO, origin: object) -> None:
    engine = Engine(ruleset)
    wanted = {rule.info.id for rule in chosen}
    matches = dict.fromkeys(wanted, 0)
    for event in parse_lines(read_lines(log_file, origin)):  # type: ignore[arg-type]
        values = ruleset.values_for(event)
        for rule in chosen:
            if holds(ruleset, ruleset.index[rule.info.id], event, values):
                matches[rule.info.id] += 1
        for alert in engine.process(event):
            if alert.rule in wanted:
                _print_decision(
                    alert.rule,
                    alert.status,
                    alert.severity,
                    alert.time,
                    alert.message,
                    _state(engine, alert.rule),
                )
    for alert in engine.finish():
        if alert.rule in wanted:
            _print_decision(
                alert.rule, alert.status, alert.severity, alert.time, alert.message, _state(engine, alert.rule)
            )
    click.echo("--- at the end of the log")
    for rule in chosen:
        state = _state(engine, rule.info.id)
        click.echo(f"{rule.info.id} ({rule.kind}): {matches[rule.info.id]} matching events; state {state}")
        if engine.disabled.get(rule.info.id):
            click.echo(f"    disabled: {engine.disabled[rule.info.id]}")


def _state(engine: Engine, rule_id: str) -> object:
    live = engine.rule(rule_id)
    return live.state() if live is not None else "disabled"


def _print_decision(rule: str, status: str, severity: str, time: int, message: str, state: object) -> None:
    click.echo(f"{format_time(time)} {rule}: {status} ({severity}): {inert(message)}")
    click.echo(f"    window state: {state}")
