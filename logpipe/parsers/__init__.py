"""Parsers: turn an assembled line into an Event. `Assembler` is the entry point."""

from logpipe.parsers.assemble import Assembler, Limits
from logpipe.parsers.detect import Detector, default_parsers

__all__ = ["Assembler", "Detector", "Limits", "default_parsers"]
