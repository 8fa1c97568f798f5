"""Held events come out oldest first (then in arrival order), only up to the time asked, and say when too many wait."""

from __future__ import annotations

from logpipe.agent.held import HeldEvents
from logpipe.event import Event, Origin

ORIGIN = Origin("docker-events", "api", "", "c0ffee")


def event(time: int, message: str) -> Event:
    return Event(time, "info", message, "docker", {}, ORIGIN, message, "docker")


def test_released_up_to_a_time_oldest_first_then_in_arrival_order() -> None:
    held = HeldEvents()
    held.hold(event(30, "c"), False)
    held.hold(event(10, "a"), False, (10, 1))
    held.hold(event(10, "b"), True)
    assert (held.due_by(9), held.due_by(10)) == (False, True)
    assert [(e.message, warm, position) for e, warm, position in held.release(20)] == [
        ("a", False, (10, 1)),
        ("b", True, None),
    ]
    assert len(held) == 1
    assert [e.message for e, _, _ in held.release(None)] == ["c"]
    assert (len(held), held.due_by(10**20)) == (0, False)


def test_overfull_past_its_limit() -> None:
    held = HeldEvents(limit=2)
    for time in range(3):
        assert not held.overfull()
        held.hold(event(time, "x"), False)
    assert held.overfull()
