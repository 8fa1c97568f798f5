"""The one wait the tests use: poll a condition until it holds, and fail the test when it does not in time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_until(
    condition: Callable[[], Any], timeout: float = 30.0, what: str | Callable[[], str] = "the condition"
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
