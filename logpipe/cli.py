"""The `logpipe` command: thin click wrappers that parse arguments, call the library and print."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

import click
from click._termui_impl import ProgressBar

from logpipe.event import Origin
from logpipe.output import event_line
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines
from logpipe.redact import Redactor
from logpipe.sources.file import ProgressCallback, read_lines


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logpipe")
def main() -> None:
    """logpipe: follow, parse and alert on structured logs."""


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
    name = getattr(source, "name", "-")
    origin = Origin(source="stdin" if name in ("-", "<stdin>") else "file", name=str(name))
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
