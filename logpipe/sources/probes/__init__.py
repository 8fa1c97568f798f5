"""Probes and resource readings: HTTP checks (http.py), the `probes:` config (config.py), container hosts (targets.py),
health bodies (healthbody.py), container stats and disk (stats.py), the last readings (readings.py) and those kept
across restarts (readinglog.py)."""

import importlib
import warnings


def __getattr__(name: str) -> object:
    """What logpipe.sources.probes held before it was a package: logpipe.sources.probes.http's names, with a
    DeprecationWarning (issue 26)."""
    value = getattr(
        importlib.import_module("logpipe.sources.probes.http"), name
    )  # AttributeError for a name it never had
    warnings.warn(
        f"logpipe.sources.probes.{name} moved to logpipe.sources.probes.http; import it from there",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
