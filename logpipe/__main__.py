"""`python -m logpipe` is the `logpipe` command."""

from logpipe.cli import main

main()
