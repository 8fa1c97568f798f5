"""`logpipe parse FILE`: a saved log as structured events, one per log event (JSON lines, or a table on a terminal)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

import click
from click._termui_impl import ProgressBar

from logpipe.cli.options import config_option, config_or_fail, format_option, source_name_option
from logpipe.console.events import event_line
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines
from logpipe.redact import Redactor
from logpipe.sources.file import ProgressCallback, origin_of, read_lines


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@format_option("auto: a table on a terminal, JSON lines otherwise.", people="table")
@config_option
@click.option("--no-redact", is_flag=True, help="Print secrets as they are (the output stays on this host).")
@click.option("--max-line-bytes", type=click.IntRange(min=1024), default=Limits().max_line_bytes, show_default=True)
@source_name_option
def parse(
    source: BinaryIO,
    output_format: str,
    config_path: Path | None,
    no_redact: bool,
    max_line_bytes: int,
    source_name: str | None,
) -> None:
    """Parse a saved log (FILE, or - for stdin) and print one structured event per log event. --config is read
    and checked like every command's (parsing itself takes nothing from it)."""
    if config_path is not None:
        config_or_fail(config_path)
    origin = origin_of(source, source_name)
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

    events = parse_lines(read_lines(source, origin, progress, max_line_bytes), assembler)
    binary_out = out.buffer if hasattr(out, "buffer") else None
    try:
        for event in events:
            if table:
                out.write(event_line(redactor.event(event) if redactor else event, color) + "\n")
                continue
            line = redactor.event_json(event) if redactor else event.to_json()  # the final dict, redacted
            if binary_out is not None:
                binary_out.write(line + b"\n")
            else:
                out.write(line.decode() + "\n")
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
