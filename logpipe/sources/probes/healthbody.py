"""Reading a health endpoint's JSON body: its components as up/down, whichever of the two formats it speaks.

- ClipForge's own: `{"status":"ok","uptime":3600,"database":{"status":"ok"},"redis":{"status":"ok"},...}`: each
  top-level object with a `status` is a component, down when that status is not `ok` (or `up`).
- NestJS Terminus: `{"status":"ok"|"error","info":{...},"error":{...},"details":{"database":{"status":"up"}}}`:
  the components are `details` (else `info` and `error` merged), down when their status is not `up`.

Both come out the same way, so one rule reads either: `probe.components.database` is "up" or "down".

A body comes from outside and is checked before anything reads it (`refused`): nested deeper than MAX_DEPTH it is
no health body (orjson would refuse to write it, in every event it went into). At most MAX_COMPONENTS components
are taken, in the body's order, and a name is cut at MAX_NAME characters: each becomes a metric series
(logpipe_probe_component_up), and a body naming new components at every check must not grow them without end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32  # levels of nesting in a health body
MAX_COMPONENTS = 32
MAX_NAME = 64
_UP = frozenset({"ok", "up", "healthy", "pass", "connected"})
_TERMINUS_KEYS = ("details", "info", "error")


def refused(body: Any) -> str | None:
    """Why the body is not taken as a health body (None: it is)."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:  # no recursion: the body decides how deep this goes
        value, depth = pending.pop()
        children = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
        if children and depth >= MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        pending.extend((child, depth + 1) for child in children)
    return None


def components(body: Any) -> dict[str, str]:
    """Each component of a health body, "up" or "down" (the first MAX_COMPONENTS); {} when it names none."""
    named = all_components(body)
    return {name[:MAX_NAME]: state for name, state in list(named.items())[:MAX_COMPONENTS]}


def all_components(body: Any) -> dict[str, str]:
    """Every component the body names, uncapped (for counting what `components` left out)."""
    if not isinstance(body, Mapping):
        return {}
    if any(isinstance(body.get(key), Mapping) for key in _TERMINUS_KEYS):
        return _terminus(body)
    return {
        name: _state(value.get("status"))
        for name, value in body.items()
        if isinstance(value, Mapping) and "status" in value
    }


def _terminus(body: Mapping[str, Any]) -> dict[str, str]:
    details = body.get("details")
    if isinstance(details, Mapping) and details:
        merged: Mapping[str, Any] = details
    else:  # older Terminus answers, or a trimmed body: info holds the up ones, error the down ones
        merged = {**_mapping(body.get("info")), **_mapping(body.get("error"))}
    return {
        name: _state(value.get("status")) if isinstance(value, Mapping) else "down" for name, value in merged.items()
    }


def overall(body: Any) -> str | None:
    """The body's own verdict, "up" or "down", or None when it has no top-level status."""
    if isinstance(body, Mapping) and isinstance(body.get("status"), str):
        return _state(body["status"])
    return None


def uptime_seconds(body: Any) -> float | None:
    if not isinstance(body, Mapping):
        return None
    value = body.get("uptime")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _state(status: Any) -> str:
    return "up" if isinstance(status, str) and status.strip().lower() in _UP else "down"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
