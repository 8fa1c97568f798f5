"""The follower's bookkeeping without a daemon: checkpoints move only past handled lines, warm-up lines count into
state but output nothing and move nothing, and Docker events and readings wait for the lines to reach their time.
The readers and the events watcher are built but never started (no Docker client is touched)."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from logpipe.engine import Engine
from logpipe.event import Event, Origin, RawLine
from logpipe.follow import Follower
from logpipe.incidents.notification import Notification
from logpipe.sources.dockerevents import EVENTS
from logpipe.state import Checkpoint, StateStore
from tests.unit.engine.helpers import SECOND, T0, ruleset

NAME = "clipforge-api"
ORIGIN = Origin("docker", NAME, "stdout", "c0ffee")
RULES = """
rules:
  - id: payment-failed
    title: Payment failed
    runbook: Look at the provider's dashboard.
    severity: critical
    match: {message: {contains: "payment failed"}}
    examples: {match: ['payment failed: card_declined']}
"""


def follower(tmp_path: Path, events_out: io.BytesIO | None = None) -> tuple[Follower, list[Notification]]:
    told: list[Notification] = []
    store = StateStore(tmp_path / "state.db")
    engine = Engine(ruleset(tmp_path, RULES))
    made = Follower(None, [NAME], store, engine, told.append, None, 0, events_out=events_out)  # type: ignore[arg-type]
    return made, told


def line(seconds: float, text: str) -> RawLine:
    return RawLine(text.encode(), ORIGIN, T0 + int(seconds * SECOND), False)


def docker_event(seconds: float, message: str) -> Event:
    time = T0 + int(seconds * SECOND)
    return Event(time, "info", message, "docker", {}, Origin("docker-events", NAME, "", "c0ffee"), message, "docker")


def written(out: io.BytesIO) -> list[str]:
    return [orjson.loads(text)["message"] for text in out.getvalue().splitlines()]


def test_the_checkpoint_moves_past_a_line_only_once_its_event_is_out(tmp_path: Path) -> None:
    made, _ = follower(tmp_path)
    made._line(NAME, line(1, "Error: boom"))
    made._line(NAME, line(1, "    at handler (/app/main.js:1:1)"))  # the stack is still open: both held
    made._save()
    assert made.store.checkpoints(NAME) == {}
    made._line(NAME, line(2, "next line"))  # closes the error event; only the new line is held
    made._save()
    assert made.store.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + SECOND, 2)}  # two lines at 1 s
    made._events(made.assembler.flush())  # as the idle flush does once the stream is quiet: the last event out
    made._mark_all_safe()
    made._save()
    assert made.store.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + 2 * SECOND, 1)}


def test_warm_up_lines_rebuild_state_but_output_nothing_and_move_no_checkpoint(tmp_path: Path) -> None:
    out = io.BytesIO()
    made, told = follower(tmp_path, out)
    for second in range(3):
        made._line(NAME, line(second, "payment failed: card_declined"), warm=True)
    made._save()
    assert (told, written(out), made.store.checkpoints(NAME)) == ([], [], {})
    made._line(NAME, line(10, "payment failed: expired_card"))
    made._line(NAME, line(11, "ok"))
    assert written(out) == ["payment failed: expired_card"]  # the warm event closed as warm: never written


def test_docker_events_wait_for_the_lines_of_their_time(tmp_path: Path) -> None:
    """A container's `start` read before a backlog of older lines must not move the engine's clock past them."""
    out = io.BytesIO()
    made, _ = follower(tmp_path, out)
    made._hold_docker_events([(docker_event(5.5, "container started"), False, (T0 + 5_500_000_000, 1))])
    assert made.engine.watermark is None  # held: the lines it follows are not read yet
    for second in range(1, 9):
        made._line(NAME, line(second, f"line {second}"))
        assert (made.engine.watermark or 0) <= T0 + second * SECOND
    order = written(out)
    assert order.index("line 4") < order.index("container started") < order.index("line 7")
    made._save()
    assert made.store.checkpoints(EVENTS) == {EVENTS: Checkpoint("", T0 + 5_500_000_000, 1)}  # moved once handled


def test_held_events_go_through_at_the_end_and_in_time_order(tmp_path: Path) -> None:
    out = io.BytesIO()
    made, _ = follower(tmp_path, out)
    made._hold_readings([docker_event(30, "probe reading")])
    made._hold_docker_events([(docker_event(20, "container died"), False, (T0 + 20 * SECOND, 1))])
    made._line(NAME, line(1, "line 1"))
    made._release_until(None)  # as the follower does when it stops
    assert [m for m in written(out) if m != "line 1"] == ["container died", "probe reading"]
    assert made.engine.watermark == T0 + 30 * SECOND
