"""The container reader's hand-over of json-file lines to the follower (ContainerReader._forward), without a
daemon: what it skips as handled before a restart (the resume point, and the first `seen` lines at its very
nanosecond), what it marks as warm-up, what it counts as skipped, and the batches it puts on the queue."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

from logpipe.event import Origin
from logpipe.sources.docker.jsonfile import json_file_lines
from logpipe.sources.docker.reader import ContainerReader, ReadOptions
from logpipe.state.progress import Checkpoint
from tests.unit.sources.test_jsonfile import BASE, entry

CONTAINER = "c" * 64
# compiled (mypyc), a freed ContainerReader leaves a stale entry in threading's WeakSet of threads, and the next
# Thread() can crash the process (mypyc/mypyc#1102: its deallocator does not clear weak references): the readers
# made here live as long as the test session
_KEPT: list[ContainerReader] = []


def forwarded(
    log: Path, positions: dict[str, Checkpoint] | None = None, lookback: int = 0
) -> tuple[list[list[tuple[bytes, str, int | None, bool, bool]]], dict[str, int]]:
    """The batches the reader puts on its queue for `log` (each line as text, stream, time, partial, warm-up?),
    and the inputs it counted as skipped."""
    out: queue.Queue[Any] = queue.Queue()
    reader = ContainerReader(
        None, "api", out, threading.Event(), positions or {}, ReadOptions(0, True, lookback=lookback)
    )
    _KEPT.append(reader)
    reader._forward(CONTAINER, json_file_lines(str(log), 0, False, lambda: False, threading.Event()))
    batches = []
    while not out.empty():
        kind, name, batch = out.get_nowait()
        assert (kind, name) == ("lines", "api")
        batches.append([(raw.data, raw.origin.stream, raw.docker_time, raw.partial, warm) for raw, warm in batch])
        for raw, _ in batch:
            assert raw.origin == Origin("docker", "api", raw.origin.stream, CONTAINER, "")
    return batches, dict(reader.skipped)


def test_every_line_is_handed_over_in_one_batch_per_read_with_its_stream(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("a", BASE) + entry("b", BASE + 1, "stderr") + entry("chunk", BASE + 2, newline=False))
    batches, skipped = forwarded(log)
    assert batches == [
        [
            (b"a", "stdout", BASE, False, False),
            (b"b", "stderr", BASE + 1, False, False),
            (b"chunk", "stdout", BASE + 2, True, False),
        ]
    ]
    assert skipped == {}


def test_a_torn_record_is_counted_not_handed_over(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("a", BASE) + b'{"log":"torn\n' + entry("b", BASE + 1))
    batches, skipped = forwarded(log)
    assert [line[0] for batch in batches for line in batch] == [b"a", b"b"]
    assert skipped == {"torn json-file record": 1}


def test_lines_handled_before_a_restart_are_skipped_to_the_line_at_the_same_nanosecond(tmp_path: Path) -> None:
    """The checkpoint says: on stdout, 2 lines at BASE + 1 were handled; stderr, nothing yet. Lines that share a
    nanosecond are told apart by their order."""
    log = tmp_path / "c-json.log"
    log.write_bytes(
        entry("old", BASE)
        + entry("same 1", BASE + 1)
        + entry("err", BASE + 1, "stderr")
        + entry("same 2", BASE + 1)
        + entry("same 3", BASE + 1)
        + entry("new", BASE + 2)
    )
    positions = {"stdout": Checkpoint(CONTAINER, BASE + 1, 2)}
    batches, _ = forwarded(log, positions)
    assert batches == [
        [
            (b"err", "stderr", BASE + 1, False, False),
            (b"same 3", "stdout", BASE + 1, False, False),
            (b"new", "stdout", BASE + 2, False, False),
        ]
    ]


def test_with_a_lookback_the_handled_lines_come_as_warm_up(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("handled", BASE) + entry("new", BASE + 1))
    batches, _ = forwarded(log, {"stdout": Checkpoint(CONTAINER, BASE, 1)}, lookback=10**9)
    assert batches == [[(b"handled", "stdout", BASE, False, True), (b"new", "stdout", BASE + 1, False, False)]]


def test_a_long_read_is_handed_over_in_batches_of_2048(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(b"".join(entry(f"line {i}", BASE + i) for i in range(5000)))
    batches, _ = forwarded(log)
    assert [len(batch) for batch in batches] == [2048, 2048, 904]
    assert [line[0] for batch in batches for line in batch] == [f"line {i}".encode() for i in range(5000)]
