"""The `logpipe` command: thin click commands that parse arguments, call the library and print. root.py holds
the group and the table of commands (one module each, imported when it runs); options.py what they share."""

from logpipe.cli.root import main

__all__ = ["main"]
