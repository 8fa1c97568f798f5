"""`logpipe metrics FILE`: what a saved log would export as log-derived metrics, in the Prometheus text format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import click

from logpipe.cli.options import config_option, config_or_fail, load_or_fail, rules_option
from logpipe.engine import Engine
from logpipe.engine.metrics.export import exposition
from logpipe.engine.metrics.model import MetricSet
from logpipe.pipeline import parse_lines, read_ahead, run_rules, settle_heap
from logpipe.sources.file import origin_of, read_lines


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@rules_option
@config_option
def metrics(source: BinaryIO, rule_paths: tuple[Path, ...], config_path: Path | None) -> None:
    """Run a saved log (FILE, or - for stdin) through the rules' extractors and `metrics:` definitions and print
    the metrics it would export, as Prometheus scrapes them from `logpipe follow --metrics-address`."""
    config = config_or_fail(config_path)
    ruleset = load_or_fail(list(rule_paths) or config.rules)
    if not ruleset.metrics:
        raise click.ClickException("the rules define no metrics (a `metrics:` section in a rule file)")
    metric_set = MetricSet(ruleset.metrics)
    engine = Engine(ruleset, metrics=metric_set)
    settle_heap()
    for _ in run_rules(read_ahead(parse_lines(read_lines(source, origin_of(source))), engine), engine):
        pass  # alerts are `logpipe replay`'s business; here only what the events counted matters
    sys.stdout.buffer.write(exposition(metric_set))
    summary = f"{engine.events} events, {len(ruleset.metrics)} metrics"
    if metric_set.disabled:
        summary += "; disabled metrics: " + ", ".join(f"{name} ({why})" for name, why in metric_set.disabled.items())
    click.echo(summary, err=True)
