"""No silent waits: a command that waits longer than SAY_AFTER says what it waits for. On a terminal, a rich spinner
(with a bar when the wait has a known total) on stderr, gone when the wait ends; elsewhere, one line on stderr, so
a log or a CI run shows why the command sat there."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

SAY_AFTER = 2.0  # seconds: a wait shorter than this needs no word


class Waiting:
    """`with Waiting("the follower's answer"):` around a wait; `update` changes what is said (and, with a
    `total`, how much of it is done)."""

    def __init__(
        self, what: str, total: int | None = None, stream: TextIO | None = None, after: float = SAY_AFTER
    ) -> None:
        self.what, self.total, self.done = what, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self._timer = threading.Timer(after, self._say)
        self._timer.daemon = True
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False

    def __enter__(self) -> Waiting:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._progress is not None:
                self._progress.stop()

    def update(self, what: str | None = None, done: int | None = None) -> None:
        with self._lock:
            self.what = what if what is not None else self.what
            self.done = done if done is not None else self.done
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, description=self.what, completed=self.done)

    def _say(self) -> None:
        with self._lock:
            if self._closed:
                return
            if not self.stream.isatty():
                self.stream.write(f"logpipe: waiting for {self.what}\n")
                self.stream.flush()
                return
            columns = [SpinnerColumn(), TextColumn("waiting for {task.description}")]
            if self.total is not None:
                columns += [BarColumn(), MofNCompleteColumn()]
            columns.append(TimeElapsedColumn())
            self._progress = Progress(*columns, console=Console(file=self.stream), transient=True)
            self._task = self._progress.add_task(self.what, total=self.total, completed=self.done)
            self._progress.start()
