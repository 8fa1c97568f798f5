"""`logpipe report FILE`: a self-contained HTML report of a saved log, and its summary on the terminal; with
`--digest`, the daily digest that log would make, rendered as a channel would send it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from logpipe.cli.options import config_option, config_or_fail, load_or_fail, rule_dirs, rules_option
from logpipe.cli.params import DurationParam
from logpipe.pipeline import parse_lines
from logpipe.sources.file import origin_of, read_lines

DIGEST_KINDS = {"text": "console", "email": "email.html", "slack": "slack", "webhook": "webhook"}


@click.command()
@click.argument("source", type=click.File("rb"), required=False)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("logpipe-report.html"),
    show_default=True,
    help="Where to write the HTML report.",
)
@click.option(
    "--digest",
    "digest_kind",
    type=click.Choice(list(DIGEST_KINDS)),
    is_flag=False,
    flag_value="text",
    default=None,
    help="Print the daily digest of the log instead, as a channel renders it (--digest: text; --digest=email, "
    "slack or webhook), with the config's templates, timezone and link. No HTML file is written.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report on a running (or stopped) follower instead of a saved log: from the per-minute trends and the "
    "incidents it keeps in this state directory.",
)
@click.option(
    "--hours",
    type=DurationParam("h"),
    default=24.0,
    show_default=True,
    help="With --state-dir: how far back (90m, 2d; a bare number: hours; the follower keeps report.keep, 48h by "
    "default).",
)
@rules_option
@config_option
def report(
    source: BinaryIO | None,
    out: Path,
    digest_kind: str | None,
    state_dir: Path | None,
    hours: float,
    rule_paths: tuple[Path, ...],
    config_path: Path | None,
) -> None:
    """Replay a saved log (FILE, or - for stdin) and write a self-contained HTML report: request rate, error
    rate and p95 latency over time, the incidents it opened and closed, top exceptions and error messages,
    payment and credit failures with the users affected. A summary is printed on the terminal. With --state-dir,
    the same report of a follower's last --hours, from what it kept."""
    from rich.console import Console

    from logpipe.report.collect import build_report
    from logpipe.report.html import render_html
    from logpipe.report.terminal import print_summary

    if hours <= 0:
        raise click.BadParameter("must be more than zero", param_hint="--hours")
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    if state_dir is not None:
        if source is not None or digest_kind is not None:
            raise click.UsageError("--state-dir reports on a follower: give no FILE and no --digest with it")
        built = _from_state(state_dir, hours, paths)
        _write(out, render_html(built))
        print_summary(built, Console(file=sys.stdout))
        click.echo(f"report written to {out}", err=True)
        return
    stream = sys.stdin.buffer if source is None else source
    if digest_kind is not None:
        ruleset = load_or_fail(paths)
        origin = origin_of(stream)
        built = build_report(parse_lines(read_lines(stream, origin)), ruleset, origin.name)
        click.echo(_digest_text(built, ruleset, config, paths, DIGEST_KINDS[digest_kind]))
        return
    try:
        target = out.open("w", encoding="utf-8")  # before the rules and the replay: a bad path fails at once
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    ruleset = load_or_fail(paths)
    origin = origin_of(stream)
    with target:
        built = build_report(parse_lines(read_lines(stream, origin)), ruleset, origin.name)
        target.write(render_html(built))
    print_summary(built, Console(file=sys.stdout))
    click.echo(f"report written to {out}", err=True)


def _from_state(state_dir: Path, hours: float, paths: list[Path]) -> Report:
    """The follower's report of its last `hours`, its text redacted as the digest's attachment is."""
    import time

    from logpipe.redact import Redactor
    from logpipe.report.attachment import redacted
    from logpipe.report.digest import rule_title
    from logpipe.report.fromstate import load_report

    ruleset = load_or_fail(paths)  # the rules' titles for the timeline
    until = time.time_ns()
    since = max(0, until - int(min(hours, 1e6) * 3600e9))  # --hours 1e12: since the epoch, not an overflow
    built = load_report(state_dir, since, until, str(state_dir), lambda rule: rule_title(ruleset, rule))
    return redacted(built, Redactor())


def _write(out: Path, page: str) -> None:
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None


def _digest_text(built: Report, ruleset: RuleSet, config: Config, paths: list[Path], kind: str) -> str:
    """The digest of a replayed log, redacted and rendered by the channel templates (the user's first)."""
    from logpipe.redact import Redactor
    from logpipe.render.renderer import TemplateProblem
    from logpipe.report.digest import Digest, from_report, rule_title
    from logpipe.sinks.wiring import renderer_for

    first, last = built.first or 0, built.last or 0
    settings = config.report
    timezone = settings.timezone if settings is not None else "UTC"
    date = settings.schedule().latest(last).date.isoformat() if settings is not None else _utc_date(last)
    digest = Digest(date, timezone, first, last, built.source, settings.link if settings is not None else None)
    from_report(digest, built, lambda rule: rule_title(ruleset, rule))
    payload = Redactor().payload({**digest.to_payload(), "id": f"digest-{date}"})
    renderer = renderer_for(config, rule_dirs(paths))
    try:
        if kind in ("slack", "webhook"):
            return renderer.render_json(kind, payload, "digest").decode()
        return renderer.render(kind, payload, "digest")
    except TemplateProblem as problem:
        raise click.ClickException(str(problem)) from None


def _utc_date(ns: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).date().isoformat()


if TYPE_CHECKING:
    from logpipe.config.settings import Config
    from logpipe.engine import RuleSet
    from logpipe.report.collect import Report
