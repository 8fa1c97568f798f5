"""The follower's loop without a daemon, fed queue items as the readers hand them over (Follower.handle): checkpoints
move only past handled lines, warm-up lines count into state but output nothing and move nothing, and Docker events
and readings wait for the lines to reach their time. The readers are built but never started (no Docker client is
touched)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import orjson

from logpipe.agent.checkpoints import Checkpointer, EventOutput
from logpipe.agent.follower import Follower
from logpipe.agent.outlet import Alone, Outlet
from logpipe.agent.readers import Readers
from logpipe.agent.stats import FollowStats
from logpipe.engine import Engine
from logpipe.event import Event, Origin, RawLine
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.sources.docker.events import EVENTS
from logpipe.sources.docker.reader import ReadOptions
from logpipe.state.progress import Checkpoint
from logpipe.state.store import StateStore
from logpipe.telemetry import Telemetry
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


def follower(tmp_path: Path, out: io.BytesIO | None = None) -> tuple[Follower, list[Notification], StateStore]:
    """A follower of NAME whose readers never start, printing into a list."""
    shown: list[Notification] = []
    store = StateStore(tmp_path / "state.db")
    engine = Engine(ruleset(tmp_path, RULES))
    readers = Readers(None, [NAME], ReadOptions(), store.progress.checkpoints)
    checkpoints = Checkpointer(store, EventOutput(out, store) if out is not None else None)
    alone = Alone(store)
    made = Follower(
        readers, engine, IncidentBook(engine.ruleset), checkpoints, FollowStats(Telemetry()),
        Outlet(shown.append, None, alone), alone,
    )  # fmt: skip
    return made, shown, store


def lines(name: str, *raws: RawLine, warm: bool = False) -> tuple[str, str, list[tuple[RawLine, bool]]]:
    return "lines", name, [(raw, warm) for raw in raws]


def line(seconds: float, text: str) -> RawLine:
    return RawLine(text.encode(), ORIGIN, T0 + int(seconds * SECOND), False)


def docker_event(seconds: float, message: str) -> Event:
    time = T0 + int(seconds * SECOND)
    return Event(time, "info", message, "docker", {}, Origin("docker-events", NAME, "", "c0ffee"), message, "docker")


def written(out: io.BytesIO) -> list[str]:
    return [orjson.loads(text)["message"] for text in out.getvalue().splitlines()]


def test_the_checkpoint_moves_past_a_line_only_once_its_event_is_out(tmp_path: Path) -> None:
    made, _, store = follower(tmp_path)
    made.handle(*lines(NAME, line(1, "Error: boom"), line(1, "    at handler (/app/main.js:1:1)")))
    made.save()  # the stack is still open: both lines held
    assert store.progress.checkpoints(NAME) == {}
    made.handle(*lines(NAME, line(2, "next line")))  # closes the error event; only the new line is held
    made.save()
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + SECOND, 2)}  # two lines at 1 s
    made.finish()  # stopping flushes the last event out
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + 2 * SECOND, 1)}


def test_warm_up_lines_rebuild_state_but_output_nothing_and_move_no_checkpoint(tmp_path: Path) -> None:
    out = io.BytesIO()
    made, shown, store = follower(tmp_path, out)
    made.handle(*lines(NAME, *(line(second, "payment failed: card_declined") for second in range(3)), warm=True))
    made.save()
    assert (shown, written(out), store.progress.checkpoints(NAME)) == ([], [], {})
    made.handle(*lines(NAME, line(10, "payment failed: expired_card"), line(11, "ok")))
    assert written(out) == ["payment failed: expired_card"]  # the warm event closed as warm: never written
    assert [notification.message for notification in shown] == ["payment failed: expired_card"]


def test_docker_events_wait_for_the_lines_of_their_time(tmp_path: Path) -> None:
    """A container's `start` read before a backlog of older lines must not move the engine's clock past them."""
    out = io.BytesIO()
    made, _, store = follower(tmp_path, out)
    made.handle("events", NAME, [(docker_event(5.5, "container started"), False, (T0 + 5_500_000_000, 1))])
    assert made.engine.watermark is None  # held: the lines it follows are not read yet
    for second in range(1, 9):
        made.handle(*lines(NAME, line(second, f"line {second}")))
        assert (made.engine.watermark or 0) <= T0 + second * SECOND
    order = written(out)
    assert order.index("line 4") < order.index("container started") < order.index("line 7")
    made.save()
    assert store.progress.checkpoints(EVENTS) == {EVENTS: Checkpoint("", T0 + 5_500_000_000, 1)}  # moved once handled


def test_held_events_go_through_when_it_stops_and_in_time_order(tmp_path: Path) -> None:
    out = io.BytesIO()
    made, _, _ = follower(tmp_path, out)
    made.handle("readings", "", [docker_event(30, "probe reading")])
    made.handle("events", NAME, [(docker_event(20, "container died"), False, (T0 + 20 * SECOND, 1))])
    made.handle(*lines(NAME, line(1, "line 1")))
    made.finish()
    assert [m for m in written(out) if m != "line 1"] == ["container died", "probe reading"]
    assert made.engine.watermark == T0 + 30 * SECOND


def test_an_idle_tick_flushes_a_quiet_stream_and_commits_its_notification(tmp_path: Path) -> None:
    made, shown, store = follower(tmp_path)
    made.handle(*lines(NAME, line(1, "payment failed: card_declined"), line(1, "    at charge (/app/pay.js:9:1)")))
    assert shown == []  # the event is still open: a stack line may follow
    made.tick(now=time.time_ns() + 60 * SECOND)  # a minute of quiet since the lines arrived (the wall clock)
    assert [notification.rule for notification in shown] == ["payment-failed"]
    made.save()
    assert store.progress.checkpoints(NAME) == {"stdout": Checkpoint("c0ffee", T0 + SECOND, 2)}
