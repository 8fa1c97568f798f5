"""A deadline for a whole operation that cannot be given one itself: a redis-py pipeline has a timeout for each
read, but a server answering a byte at a time within it would hold the follower's loop (the sync runs on it) for
as long as it liked. One thread per backend: `limit` arms it around the operation, and past the deadline it runs
the action (closing the connection), which ends the operation with an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

log = structlog.get_logger("logpipe.fleet")


class Watch:
    """One armed operation: `fired` once its deadline passed and the action ran."""

    def __init__(self) -> None:
        self.fired = False


class Watchdog:
    def __init__(self, name: str) -> None:
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._action: Callable[[], object] | None = None
        self._watch = Watch()
        self._stopped = False
        threading.Thread(target=self._run, name=f"watchdog-{name}", daemon=True).start()

    @contextmanager
    def limit(self, seconds: float, action: Callable[[], object]) -> Iterator[Watch]:
        """Run `action` should the block still run `seconds` from now (one block at a time)."""
        watch = Watch()
        with self._condition:
            self._deadline, self._action, self._watch = time.monotonic() + seconds, action, watch
            self._condition.notify()
        try:
            yield watch
        finally:
            with self._condition:
                self._deadline = self._action = None

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._stopped:
                if self._deadline is None:
                    self._condition.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._condition.wait(left)
                    continue
                action, self._watch.fired = self._action, True
                self._deadline = self._action = None
                if action is not None:
                    self._condition.release()  # the action may take a moment: the operation's end waits for none
                    try:
                        action()
                    except Exception:  # an abort that fails leaves the operation to its own read timeouts
                        log.exception("cutting off a call past its deadline failed")
                    finally:
                        self._condition.acquire()
