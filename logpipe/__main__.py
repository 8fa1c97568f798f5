"""`python -m logpipe` is the `logpipe` command."""

from logpipe.launcher import main

main()
