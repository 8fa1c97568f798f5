"""The `logpipe` group's table of commands: each name leads to the click command of that name, imported only
when asked for, so `logpipe parse` loads no rule engine."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.cli.root import COMMANDS


def test_every_command_in_the_table_is_the_click_command_of_its_name() -> None:
    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert isinstance(command, click.Command)
        assert command.name == name


def test_help_lists_every_command_of_the_table() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_parse_imports_neither_the_rule_engine_nor_the_config() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from logpipe.cli import main\n"
        "result = CliRunner().invoke(main, ['parse', '-'], input='hello\\n')\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.startswith(('logpipe.engine', 'logpipe.config', 'pydantic'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
