"""The `logpipe` command: thin click wrappers that parse arguments, call the library and print."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import click
from click._termui_impl import ProgressBar

from logpipe.engine import Engine, RuleLoadError, RuleSet, load_rules
from logpipe.event import Origin
from logpipe.output import event_line
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines, run_rules
from logpipe.redact import Redactor
from logpipe.sinks.console import ConsoleSink
from logpipe.sinks.jsonl import JsonLinesSink
from logpipe.sources.file import ProgressCallback, read_lines


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logpipe")
def main() -> None:
    """logpipe: follow, parse and alert on structured logs."""


def rules_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help="A rule file or directory (repeatable). Default: the ClipForge pack shipped with logpipe.",
    )(function)


def load_or_fail(paths: Sequence[Path]) -> RuleSet:
    """The rules, or a message naming each bad file, line and field, and exit code 1 (no traceback)."""
    try:
        return load_rules(list(paths) or None)
    except RuleLoadError as error:
        raise click.ClickException(f"{len(error.errors)} problem(s) in the rules:\n" + str(error)) from None


def source_origin(source: BinaryIO) -> Origin:
    name = getattr(source, "name", "-")
    return Origin(source="stdin" if name in ("-", "<stdin>") else "file", name=str(name))


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@rules_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "human", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: human on a terminal, JSON lines otherwise.",
)
@click.option("--no-redact", is_flag=True, help="Show secrets in alerts as they are (output stays on this host).")
def replay(source: BinaryIO, rule_paths: tuple[Path, ...], output_format: str, no_redact: bool) -> None:
    """Run a saved log (FILE, or - for stdin; Docker timestamp prefixes or json-file records are understood)
    through the parsers and rules, and print the alerts it fires, on event time."""
    ruleset = load_or_fail(rule_paths)
    engine = Engine(ruleset)
    redactor = None if no_redact else Redactor()
    human = output_format == "human" or (output_format == "auto" and sys.stdout.isatty())
    sink: ConsoleSink | JsonLinesSink = (
        ConsoleSink(sys.stdout, sys.stdout.isatty(), redactor) if human else JsonLinesSink(sys.stdout.buffer, redactor)
    )
    fired = 0
    for alert in run_rules(parse_lines(read_lines(source, source_origin(source))), engine):
        sink.deliver(alert)
        fired += 1
    summary = f"{engine.events} events, {fired} alerts"
    if engine.disabled:
        summary += "; disabled rules: " + ", ".join(f"{rule} ({why})" for rule, why in engine.disabled.items())
    click.echo(summary, err=True)


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "jsonl", "table"]),
    default="auto",
    show_default=True,
    help="auto: a table on a terminal, JSON lines otherwise.",
)
@click.option("--no-redact", is_flag=True, help="Print secrets as they are (the output stays on this host).")
@click.option("--max-line-bytes", type=click.IntRange(min=1024), default=Limits().max_line_bytes, show_default=True)
def parse(source: BinaryIO, output_format: str, no_redact: bool, max_line_bytes: int) -> None:
    """Parse a saved log (FILE, or - for stdin) and print one structured event per log event."""
    origin = source_origin(source)
    table = output_format == "table" or (output_format == "auto" and sys.stdout.isatty())
    redactor = None if no_redact else Redactor()
    assembler = Assembler(limits=Limits(max_line_bytes=max_line_bytes))
    out = sys.stdout
    color = table and out.isatty()

    size = _file_size(source)
    progress: ProgressCallback | None = None
    bar = None
    if size and sys.stderr.isatty():
        bar = click.progressbar(length=size, label="parsing", file=sys.stderr)
        progress = _progress_updater(bar)

    events = parse_lines(read_lines(source, origin, progress), assembler)
    binary_out = out.buffer if hasattr(out, "buffer") else None
    try:
        for event in events:
            shown = redactor.event(event) if redactor else event
            if table:
                out.write(event_line(shown, color) + "\n")
            elif binary_out is not None:
                binary_out.write(shown.to_json() + b"\n")
            else:
                out.write(shown.to_json().decode() + "\n")
    except BrokenPipeError:  # `logpipe parse big.log | head`: stop quietly, as other tools do
        sys.stderr.close()
    finally:
        if bar is not None:
            bar.render_finish()


def _progress_updater(bar: ProgressBar[int]) -> ProgressCallback:
    last = 0

    def update(done: int) -> None:
        nonlocal last
        bar.update(done - last)
        last = done

    return update


def _file_size(source: BinaryIO) -> int:
    try:
        return os.fstat(source.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return 0


from logpipe import rulescli  # noqa: E402  (registers `logpipe rules ...` on main)

rulescli.register(main)
