"""`logpipe rules ...`: check, test, list, schema and explain rules offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO

import click

from logpipe.cli.options import (
    check_actions_or_fail,
    config_option,
    config_or_fail,
    load_or_fail,
    rules_option,
)
from logpipe.engine import Engine
from logpipe.engine.conditions import PRIVATE_KEYS
from logpipe.engine.examples import ExampleResult, holds, parse_example, run_examples
from logpipe.engine.kinds import RuleKind
from logpipe.engine.metricexamples import MetricExampleResult, run_metric_examples
from logpipe.engine.rules import RuleSet
from logpipe.engine.schema import json_schema
from logpipe.event import Event, format_time
from logpipe.inert import inert
from logpipe.pipeline import parse_lines
from logpipe.sources.file import origin_of, read_lines


@click.group()
def rules() -> None:
    """Check, test, list and explain rules, offline."""


paths_argument = click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))


@rules.command()
@paths_argument
@config_option
def check(paths: tuple[Path, ...], config_path: Path | None) -> None:
    """Validate rule files (default: the shipped pack, or the config's `rules:`); report every problem with
    file:line and field. With --config, also the config, and that each rule's `actions` names a channel."""
    config = config_or_fail(config_path)
    ruleset = load_or_fail(paths or tuple(config.rules))
    check_actions_or_fail(config, config_path, ruleset)
    files = len({loaded.file for loaded in ruleset.loaded})
    click.echo(
        f"ok: {len(ruleset.rules)} rules, {len(ruleset.extractors)} extractors and {len(ruleset.metrics)} metrics"
        f" in {files} files"
    )


@rules.command()
@paths_argument
def test(paths: tuple[Path, ...]) -> None:
    """Run every rule's and metric's inline examples; exit 1 if any fails."""
    ruleset = load_or_fail(paths)
    results: dict[str, list[ExampleResult]] = {}
    for result in run_examples(ruleset):
        results.setdefault(result.rule, []).append(result)
    passed = failed = 0
    for rule_id, outcomes in results.items():
        bad = [r for r in outcomes if not r.passed]
        status = click.style("PASS", fg="green") if not bad else click.style("FAIL", fg="red", bold=True)
        click.echo(f"{status} {rule_id} ({len(outcomes)} examples)")
        for result in bad:
            click.echo(f"     {result.expectation} example {result.number} {result.problem}:")
            click.echo("       " + inert(result.line).replace("\n", "\n       "))
            for line in _explain_line(ruleset, ruleset.rule(rule_id), result.line):
                click.echo("       " + inert(line))
        passed += not bad
        failed += bool(bad)
    by_metric: dict[str, list[MetricExampleResult]] = {}
    for metric_result in run_metric_examples(ruleset):
        by_metric.setdefault(metric_result.metric, []).append(metric_result)
    for name, metric_outcomes in by_metric.items():
        broken = [outcome for outcome in metric_outcomes if not outcome.passed]
        status = click.style("PASS", fg="green") if not broken else click.style("FAIL", fg="red", bold=True)
        click.echo(f"{status} metric {name} ({len(metric_outcomes)} examples)")
        for example in broken:
            click.echo(f"     example {example.number}:")
            for problem in example.problems:
                click.echo(f"       {problem}")
        passed += not broken
        failed += bool(broken)
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@rules.command(name="list")
@paths_argument
def list_rules(paths: tuple[Path, ...]) -> None:
    """One line per rule: id, kind, severity, title, where it is defined."""
    ruleset = load_or_fail(paths)
    for rule in ruleset.rules:
        info = rule.info
        click.echo(f"{info.id:<40} {rule.kind:<10} {info.severity:<9} {info.title}  [{info.source}]")


@rules.command()
def schema() -> None:
    """Print the JSON Schema of rule files (point your editor's YAML plugin at it)."""
    click.echo(json.dumps(json_schema(), indent=2))


@rules.command()
@click.argument("line", required=False)
@click.option("--file", "log_file", type=click.File("rb"), help="Replay a log and explain the rules' decisions.")
@click.option("--rule", "rule_id", help="Only this rule.")
@rules_option
def explain(line: str | None, log_file: BinaryIO | None, rule_id: str | None, rule_paths: tuple[Path, ...]) -> None:
    """Why rules match a LINE or not; or, with --file, when and why they fired over a whole log."""
    ruleset = load_or_fail(rule_paths)
    if rule_id is not None and rule_id not in ruleset.index:
        raise click.BadParameter(f"no rule {rule_id!r}", param_hint="--rule")
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
                for text in _explain_event(ruleset, rule, event, values):
                    click.echo("      " + inert(text))


def _explain_line(ruleset: RuleSet, rule: RuleKind, line: str) -> list[str]:
    return [
        text
        for event in parse_example(line)
        for text in _explain_event(ruleset, rule, event, ruleset.values_for(event))
    ]


def _explain_event(ruleset: RuleSet, rule: RuleKind, event: Event, values: dict[str, object]) -> list[str]:
    lines = []
    if ruleset.index[rule.info.id] not in ruleset.candidates(event):
        lines.append("skipped by the prefilter: none of its text patterns, attribute values or fields is in this event")
    for name, condition in rule.conditions.items():
        scratch = dict(values)
        ok, tree = condition.explain(event, scratch)
        lines.append(f"{name}: {'holds' if ok else 'does not hold'}")
        lines.extend("  " + text for text in tree)
        captured = {k: v for k, v in scratch.items() if k not in values}
        if captured:
            lines.append(f"  captured: {captured}")
    return lines


def _explain_file(ruleset: RuleSet, chosen: list[RuleKind], log_file: BinaryIO, origin: object) -> None:
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
