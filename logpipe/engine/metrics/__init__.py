"""Log-derived metrics: the metric set (model.py), their schema, examples, Prometheus export, and URL path templates
(paths.py)."""

from logpipe.engine.metrics.model import *  # noqa: F403  (what the module of this name held)
