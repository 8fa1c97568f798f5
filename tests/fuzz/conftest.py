"""The short fuzz runs check what every input must give (no exception but the documented one, lines accounted),
not how fast: the targets' time bounds are for bench/fuzz.py; here pytest-timeout is the hang guard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz import targets


@pytest.fixture(autouse=True, scope="module")
def _no_time_bounds() -> Iterator[None]:
    saved, targets.TIME_BOUNDS = targets.TIME_BOUNDS, False
    yield
    targets.TIME_BOUNDS = saved
