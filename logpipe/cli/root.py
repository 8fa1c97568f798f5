"""The `logpipe` group: its own options, and the table of its commands, each imported only when it runs (or when
help lists it), as pip's commands_dict and click's LazyGroup do: `logpipe parse` loads no rule engine."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from logpipe.errors import LogpipeError
from logpipe.logconfig import configure_logging

# name -> "module:attribute" of its click command; each module holds its commands at module level
COMMANDS = {
    "replay": "logpipe.cli.replay:replay",
    "follow": "logpipe.cli.follow:follow",
    "reload": "logpipe.cli.follow:reload",
    "parse": "logpipe.cli.parse:parse",
    "rules": "logpipe.cli.rules:rules",
    "metrics": "logpipe.cli.metrics:metrics",
    "report": "logpipe.cli.report:report",
    "notify": "logpipe.cli.notify:notify",
    "render": "logpipe.cli.notify:render",
    "outbox": "logpipe.cli.notify:outbox",
    "incidents": "logpipe.cli.incidents:incidents",
    "silence": "logpipe.cli.incidents:silence",
    "probe": "logpipe.cli.probe:probe",
    "doctor": "logpipe.cli.deploy:doctor",
    "init": "logpipe.cli.deploy:init",
    "fleet": "logpipe.cli.fleet:fleet",
}


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("logpipe")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without installing
        return "0"


class LazyGroup(click.Group):
    """Commands from COMMANDS, imported and added (add_command) the first time they are asked for. Any
    LogpipeError (bad config, unusable state directory...) is a one-line message and exit code 1, never a
    traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LogpipeError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logpipe")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    envvar="LOGPIPE_LOG_LEVEL",
    help="logpipe's own log (on stderr).",
)
def main(log_level: str) -> None:
    """logpipe: follow, parse and alert on structured logs."""
    # logpipe's own operation is logged through its own structlog config, on stderr: stdout carries output
    configure_logging("logpipe", version=version(), level=log_level, stream=sys.stderr)
