"""The compiled rules, one module per kind (every, threshold, ratio, aggregate, absence, sequence) on base.py's
CompiledRule."""

from logpipe.engine.kinds.absence import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.aggregate import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.base import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.every import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.make import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.ratio import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.sequence import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.threshold import *  # noqa: F403  (what the module of this name held)
from logpipe.engine.kinds.windowed import *  # noqa: F403  (what the module of this name held)


def __getattr__(name: str) -> object:
    """`RuleKind`, the name CompiledRule had until the redesign (issue 26). Here, not in the compiled base.py: mypyc
    reads a module's attributes while it initialises it, and a compiled module __getattr__ runs too early."""
    if name == "RuleKind":
        import warnings

        warnings.warn("RuleKind is CompiledRule now", DeprecationWarning, stacklevel=2)
        return CompiledRule  # noqa: F405
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
