"""Checkpoints through the Checkpointer's own methods: a position counts the lines of its timestamp, moves only past
lines the assembler no longer holds, is saved only when it moved; the event output is cut back to its committed
length at start."""

from __future__ import annotations

from pathlib import Path

from logpipe.agent.checkpoints import Checkpointer, EventOutput
from logpipe.event import Event, Origin, RawLine
from logpipe.sources.docker.events import EVENTS
from logpipe.state.progress import Checkpoint
from logpipe.state.store import StateStore

NAME = "api"
ORIGIN = Origin("docker", NAME, "stdout", "c0ffee")
T0 = 1_795_770_000_000_000_000


def raw(time: int) -> RawLine:
    return RawLine(b"x", ORIGIN, time, False)


def test_lines_sharing_a_timestamp_are_counted_and_saved_once_handled(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    checkpoints = Checkpointer(store)
    key = checkpoints.key(NAME, ORIGIN)
    for _ in range(3):
        checkpoints.read(key, raw(T0))
        checkpoints.assembled(key, held=0)
    checkpoints.save([])
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0, 3)}


def test_a_held_line_keeps_the_checkpoint_on_the_line_before_it(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    checkpoints = Checkpointer(store)
    key = checkpoints.key(NAME, ORIGIN)
    checkpoints.read(key, raw(T0))
    checkpoints.assembled(key, held=0)
    checkpoints.read(key, raw(T0 + 1))
    checkpoints.assembled(key, held=1)  # only the new line is held (a multi-line event it opened)
    checkpoints.read(key, raw(T0 + 2))
    checkpoints.assembled(key, held=2)  # both held: nothing moves
    checkpoints.save([])
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0, 1)}
    checkpoints.all_handled(lambda origin: 0)  # the assembler flushed
    checkpoints.save([])
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + 2, 1)}


def test_the_docker_events_checkpoint_moves_with_the_events_handled(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    checkpoints = Checkpointer(store)
    checkpoints.events_handled((T0, 2))
    checkpoints.save([])
    assert store.progress.checkpoints(EVENTS) == {EVENTS: Checkpoint("", T0, 2)}
    assert checkpoints.resumed_from([NAME]) is None
    assert checkpoints.resumed_from([EVENTS]) == T0


def test_the_event_output_is_cut_back_to_the_length_saved_with_the_checkpoints(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    path = tmp_path / "events.jsonl"
    event = Event(T0, "info", "hello", "app", {}, ORIGIN, "hello", "json")
    with path.open("ab") as out:
        output = EventOutput(out, store)
        output.write(event)
        Checkpointer(store, output).save([])  # committed: one line
        output.write(event)  # written after the save: a kill -9 here
    committed = path.read_bytes().splitlines()[:1]
    with path.open("ab") as out:
        EventOutput(out, store)  # the next start
    assert path.read_bytes().splitlines() == committed
