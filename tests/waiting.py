"""The one wait the tests use: poll a condition until it holds, and fail the test when it does not in time.

The deadline is a safety net, not a claim about speed: long enough that only something that will never happen
reaches it on a loaded machine (pytest-timeout bounds the test as a whole). How fast logpipe does a thing is a
figure for bench/, never an assertion here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

DEADLINE = 120.0  # seconds: what waits default to


def wait_until(
    condition: Callable[[], Any], timeout: float = DEADLINE, what: str | Callable[[], str] = "the condition"
) -> Any:
    """The condition's first truthy value; fails the test after `timeout` seconds, saying what it waited for (a
    callable `what` is asked only then, so it can show the state that did not come)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(0.05)
