"""Shared fixtures: global logging state is reset around every test (structlog and the root logger)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_sessionstart(session: pytest.Session) -> None:
    """The hot path runs compiled (setup.py): a module edited after its build would be shadowed by the old .so,
    and the tests would test yesterday's code. Refuse to run rather than pass on stale code."""
    stale = [
        str(source.relative_to(ROOT))
        for built in (ROOT / "logpipe").rglob("*.so")
        if (source := built.with_name(built.name.split(".", 1)[0] + ".py")).exists()
        and source.stat().st_mtime > built.stat().st_mtime
    ]
    if stale:
        pytest.exit(f"compiled modules older than their source: {', '.join(stale)}; run `make install`", returncode=4)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)
