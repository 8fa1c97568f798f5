"""The `logpipe` console script: the agent's CLI, or one line saying how to install it.

`pip install logpipe` is the service side (logging configuration only); its console script would otherwise die
with a ModuleNotFoundError traceback for click or docker.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from logpipe.cli import main as cli_main

        # inside the guard: each command imports its modules (and their dependencies) when it runs
        cli_main()
    except ModuleNotFoundError as missing:
        if missing.name is None or missing.name.split(".")[0] == "logpipe":
            raise
        print(
            f"logpipe: the agent is not installed here (missing {missing.name}); "
            "this is the service-side install. For the agent: pip install 'logpipe[agent]'",
            file=sys.stderr,
        )
        sys.exit(2)
