"""What several commands share: their options (--rules, --config, --source-name, --events-out) and the loaders that
turn a bad config or rule file into a one-line message and exit code 1, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

if TYPE_CHECKING:  # imported by the loaders when called: `logpipe parse` needs neither the config nor the rules
    from logpipe.config import Config
    from logpipe.engine import RuleSet

Command = Callable[..., None]


def rules_option(function: Command) -> Command:
    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help="A rule file or directory (repeatable). Default: the ClipForge pack shipped with logpipe.",
    )(function)


def config_option(function: Command) -> Command:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="LOGPIPE_CONFIG",
        help="logpipe.yml: state dir, rules, Sentry, channels, routes (env: LOGPIPE_CONFIG).",
    )(function)


def source_name_option(function: Command) -> Command:
    return click.option(
        "--source-name",
        metavar="NAME",
        help="The source's name in events and alert ids (default: the file's absolute path, or `stdin`).",
    )(function)


def format_option(help_text: str) -> Callable[[Command], Command]:
    """--format auto|human|jsonl, for the commands that print notifications."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["auto", "human", "jsonl"]),
        default="auto",
        show_default=True,
        help=help_text,
    )


class PrivateAppendFile(click.ParamType[BinaryIO]):
    """A file opened for appending, created 0600 when new (events are logs: nobody else's to read); - is stdout."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> BinaryIO:
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return]
        if value == "-":
            return sys.stdout.buffer
        try:
            return open(value, "ab", opener=lambda path, flags: os.open(path, flags, 0o600))
        except OSError as error:
            self.fail(f"cannot open {value}: {error.strerror}", param, ctx)


def events_out_option(function: Command) -> Command:
    return click.option(
        "--events-out",
        type=PrivateAppendFile(),
        help="Also append every parsed event (redacted) as JSON lines (a new file is created 0600).",
    )(function)


def load_or_fail(paths: Sequence[Path]) -> RuleSet:
    """The rules, or a message naming each bad file, line and field, and exit code 1 (no traceback)."""
    from logpipe.engine import RuleLoadError, load_rules

    try:
        return load_rules(list(paths) or None)
    except RuleLoadError as error:
        raise click.ClickException(f"{len(error.errors)} problem(s) in the rules:\n" + str(error)) from None


def config_or_fail(path: Path | None) -> Config:
    from logpipe.config import load_config
    from logpipe.errors import ConfigError

    try:
        return load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def check_actions_or_fail(config: Config, config_path: Path | None, ruleset: RuleSet) -> None:
    """With a config, every rule's `actions` must name a channel it defines (else those alerts go nowhere)."""
    from logpipe.outputs import unknown_actions

    if config_path is None:
        return
    problems = unknown_actions(config, ruleset)
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem(s) between the rules and {config_path}:\n" + "\n".join(problems)
        )


def rule_dirs(paths: Sequence[Path]) -> list[Path]:
    """The directories of the rule paths given: their templates/ are searched before the defaults."""
    return [p if p.is_dir() else p.parent for p in paths]
