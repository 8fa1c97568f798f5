"""`logpipe report FILE`: a self-contained HTML report of a saved log, and its summary on the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import click

from logpipe.cli import config_option, config_or_fail, load_or_fail, rules_option, source_origin
from logpipe.pipeline import parse_lines
from logpipe.sources.file import read_lines


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("logpipe-report.html"),
    show_default=True,
    help="Where to write the HTML report.",
)
@rules_option
@config_option
def report(source: BinaryIO, out: Path, rule_paths: tuple[Path, ...], config_path: Path | None) -> None:
    """Replay a saved log (FILE, or - for stdin) and write a self-contained HTML report: request rate, error
    rate and p95 latency over time, the incidents it opened and closed, top exceptions and error messages,
    payment and credit failures with the users affected. A summary is printed on the terminal."""
    from rich.console import Console

    from logpipe.report.collect import build_report
    from logpipe.report.html import render_html
    from logpipe.report.terminal import print_summary

    config = config_or_fail(config_path)
    try:
        target = out.open("w", encoding="utf-8")  # before the rules and the replay: a bad path fails at once
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    ruleset = load_or_fail(list(rule_paths) or config.rules)
    origin = source_origin(source)
    with target:
        built = build_report(parse_lines(read_lines(source, origin)), ruleset, origin.name)
        target.write(render_html(built))
    print_summary(built, Console(file=sys.stdout))
    click.echo(f"report written to {out}", err=True)
