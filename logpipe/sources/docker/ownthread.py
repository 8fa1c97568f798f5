"""A worker that runs on a thread it owns rather than being one.

Compiled by mypyc, a class deriving from `threading.Thread` does not clear the weak references `threading`
keeps to its threads when it is freed (mypyc/mypyc#1102), and the next `Thread()` could then crash: making and
dropping 20,000 Docker readers, then starting a thread, segfaulted. Owning the thread avoids that."""

from __future__ import annotations

import threading


class OwnThread:
    def __init__(self, name: str) -> None:
        # `_runner`, not `_thread`: mypyc names the C field after it, and `__thread` is a C keyword
        self._runner = threading.Thread(target=self.run, name=name, daemon=True)

    def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._runner.start()

    def join(self, timeout: float | None = None) -> None:
        self._runner.join(timeout)

    def is_alive(self) -> bool:
        return self._runner.is_alive()
