"""The follower's signals: SIGTERM and SIGINT stop it, SIGHUP reloads it. Nothing runs inside a signal.

A Python signal handler runs on the main thread between any two bytecodes of whatever it interrupts: one that takes
a lock (threading.Event.set) hangs for good when it interrupts code holding that lock, and in a storm handlers
re-enter one another until RecursionError (both seen: issue 28). So `Signals` blocks them in the main thread
before the agent starts any thread (threads inherit the mask), and a thread of its own waits for them with sigwait
and calls the follower's `stop` or `reload`, which only set a flag. Before the follower is attached (the agent
still starting, waiting for a Docker daemon), SIGTERM and SIGINT end the process as they did, and SIGHUP is
ignored (there is nothing to reload yet).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

STOP = frozenset({signal.SIGTERM, signal.SIGINT})
RELOAD = signal.SIGHUP
HANDLED = STOP | {RELOAD}


class Signals(threading.Thread):
    def __init__(self) -> None:
        """Block the follower's signals in this thread (every thread it starts from now on inherits that), and
        start waiting for them."""
        super().__init__(name="signals", daemon=True)
        self._stop: Callable[[], None] | None = None
        self._reload: Callable[[], None] | None = None
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        self.start()

    def attach(self, stop: Callable[[], None], reload: Callable[[], None]) -> None:
        """From now on a stop signal calls `stop`, SIGHUP `reload` (each should only set a flag)."""
        self._stop, self._reload = stop, reload

    def run(self) -> None:
        while True:
            number = signal.sigwait(HANDLED)
            if number == RELOAD:
                if self._reload is not None:
                    self._reload()
            elif self._stop is not None:
                self._stop()
            else:
                _end_as_by_default(number)


def _end_as_by_default(number: int) -> None:
    """The signal again, to this thread alone unblocked: what it does unhandled (SIGTERM ends the process, SIGINT
    is Python's KeyboardInterrupt on the main thread)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {number})
    os.kill(os.getpid(), number)
