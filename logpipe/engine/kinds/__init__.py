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
