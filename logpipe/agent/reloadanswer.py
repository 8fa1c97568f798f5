"""The follower's answer to a reload, for `logpipe reload` to wait on: written to `reload.json` in the state
directory after every reload (taken or refused, with the problems), and read back by the command that asked.

Which answer is the one asked for: the follower notes when it began reading the files (CLOCK_MONOTONIC, the same
clock for every process on the host, and deaf to the wall clock's steps). A reload that began after the signal
was sent read the files as they were when the command asked, so its answer is the command's; one that began
before was asked by someone else, and a second reload follows it (the signal set the flag again)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from logpipe.errors import StateError
from logpipe.state.directory import open_private

ANSWER_FILE = "reload.json"


@dataclass(frozen=True, slots=True)
class ReloadAnswer:
    pid: int  # the follower that answered
    began: int  # CLOCK_MONOTONIC (ns) when it began reading the config and rules
    at: int  # wall clock (ns) when it answered
    taken: bool  # the new set runs; False: refused, the running set stays
    problems: tuple[str, ...] = ()  # each with its file:line
    rules: int = 0  # rules now running (taken only)
    maintenance_windows: int = 0

    def answers(self, pid: int, asked: int) -> bool:
        """This is the answer of follower `pid` to a request sent at `asked` (CLOCK_MONOTONIC ns)."""
        return self.pid == pid and self.began >= asked

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "pid": self.pid, "began": self.began, "at": self.at, "taken": self.taken,
                "problems": list(self.problems), "rules": self.rules, "maintenance_windows": self.maintenance_windows,
            }
        )  # fmt: skip

    @classmethod
    def from_json(cls, data: bytes) -> ReloadAnswer:
        fields = orjson.loads(data)
        return cls(
            int(fields["pid"]), int(fields["began"]), int(fields["at"]), bool(fields["taken"]),
            tuple(str(p) for p in fields.get("problems", [])), int(fields.get("rules", 0)),
            int(fields.get("maintenance_windows", 0)),
        )  # fmt: skip


def write_answer(state_dir: Path, answer: ReloadAnswer) -> None:
    """Replace the answer file at once (a reader sees the old answer or the new one, never half of one)."""
    partial = state_dir / f".{ANSWER_FILE}.{os.getpid()}"
    descriptor = open_private(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)  # 0600, never through a link
    with os.fdopen(descriptor, "wb") as out:
        out.write(answer.to_json())
    os.replace(partial, state_dir / ANSWER_FILE)


def read_answer(state_dir: Path) -> ReloadAnswer | None:
    """The last answer written, or None (no reload answered yet, or a file this version cannot read)."""
    try:
        with os.fdopen(open_private(state_dir / ANSWER_FILE, os.O_RDONLY), "rb") as answer:
            return ReloadAnswer.from_json(answer.read())
    except (StateError, OSError, ValueError, KeyError, TypeError):
        return None
