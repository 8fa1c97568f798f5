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
    from logpipe.config.settings import Config
    from logpipe.engine import RuleSet

Command = Callable[..., None]


def rules_option(function: Command) -> Command:
    from logpipe.cli.params import RuleSourceParam

    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=RuleSourceParam(),
        help="A rule source, in order (repeatable): pack:clipforge (the pack shipped with logpipe), a directory or "
        "a file; later ones add rules and override earlier ones by id. Default: the config's `rules:`, else the "
        "pack alone.",
    )(function)


def rule_option(function: Command) -> Command:
    """--rule ID: checked against the loaded rules (with the closest ids), completed by the shell."""
    from logpipe.cli.params import complete_rule_ids

    return click.option("--rule", "rule_id", help="Only this rule.", shell_complete=complete_rule_ids)(function)


def output_option(function: Command) -> Command:
    """-o/--output table|json: one spelling for every command that lists things."""
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for people; json for programs (one object per line).",
    )(function)


def rule_paths_or_deprecated(paths: tuple[Path, ...], rule_paths: tuple[Path, ...], command: str) -> tuple[Path, ...]:
    """The rule sources of a `rules` subcommand: --rules, or the older positional PATHS (with a one-line note on
    stderr; both together are used in order)."""
    if paths:
        spelled = " ".join(f"--rules {path}" for path in paths)
        click.echo(f"note: `logpipe rules {command} PATH` is deprecated; write `logpipe rules {command} {spelled}`",
                   err=True)  # fmt: skip
    return (*paths, *rule_paths)


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


def format_option(help_text: str, people: str = "human") -> Callable[[Command], Command]:
    """-o/--output auto|table|json for the commands that print as they go (replay, follow, parse): table for
    people, json (one object per line) for programs, auto: table on a terminal. `--format` and its older names
    (human, jsonl) still work; the command gets its own words for them (`people`: human or table, and jsonl)."""
    words = {"table": people, "human": people, "json": "jsonl", "jsonl": "jsonl", "auto": "auto"}

    def normalise(ctx: click.Context, param: click.Parameter, value: str) -> str:
        return words[value]

    return click.option(
        "-o",
        "--output",
        "--format",
        "output_format",
        type=click.Choice(["auto", "table", "json", "human", "jsonl"]),
        default="auto",
        show_default=True,
        callback=normalise,
        help=help_text + " (human and jsonl: the older names of table and json)",
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
    from logpipe.config.load import load_config
    from logpipe.errors import ConfigError

    try:
        return load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def rule_or_fail(ruleset: RuleSet, rule_id: str, param_hint: str) -> None:
    """A rule id a command was given must name a loaded rule: else a usage error with the closest ids."""
    from logpipe.incidents.rulenames import unknown_rule

    problem = unknown_rule(rule_id, ruleset)
    if problem:
        raise click.BadParameter(problem, param_hint=param_hint)


def check_actions_or_fail(config: Config, config_path: Path | None, ruleset: RuleSet) -> None:
    """With a config, every rule's `actions` must name a channel it defines (else those alerts go nowhere), and
    every maintenance window's `rules:` a loaded rule (else it mutes nothing)."""
    from logpipe.incidents.rulenames import maintenance_problems
    from logpipe.sinks.wiring import unknown_actions

    if config_path is None:
        return
    problems = unknown_actions(config, ruleset) + [str(p) for p in maintenance_problems(config, config_path, ruleset)]
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem(s) between the rules and {config_path}:\n" + "\n".join(problems)
        )


def rule_dirs(paths: Sequence[Path]) -> list[Path]:
    """The directories of the rule paths given: their templates/ are searched before the defaults."""
    return [p if p.is_dir() else p.parent for p in paths]
