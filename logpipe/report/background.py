"""A report job that runs on a thread of its own inside `logpipe follow` (the digest's schedule, the trends'
snapshots) and saves what it holds when the follower stops."""

from __future__ import annotations

import threading


class BackgroundJob:
    """`start()` runs `_run` on a daemon thread, which polls `_stopping`; `stop()` asks it to end, waits for it
    (30 s at most) and then runs `_on_stop` on the caller's thread: the last save a stopping follower must not
    lose."""

    thread_name = "job"

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._on_stop()

    def _run(self) -> None:
        raise NotImplementedError

    def _on_stop(self) -> None:
        """What stopping saves, once the thread has ended."""
