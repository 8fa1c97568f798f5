"""Where the follower's notifications go: printed at once (pipeline.Fanout: a silenced one nowhere, a folded symptom
only to the outbox, as a breadcrumb on its cause's trail), and committed to the outbox together at each tick and
before each checkpoint save, after the fleet decided which instance sends each. Alone, an instance sends all."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from logpipe.incidents.notification import Notification
from logpipe.incidents.silences import Silence
from logpipe.pipeline import Fanout
from logpipe.sinks.dispatcher import Dispatcher, Router
from logpipe.state.store import StateStore


class Shared(Protocol):
    """What this instance shares with the others of a fleet, once per tick (fleet/sync.py FleetSync)."""

    def silences(self) -> list[Silence]:
        """The silences in force."""

    def tick(self) -> None:
        """One exchange with the others (windows out and in)."""

    def settle(self, made: list[Notification]) -> list[Notification]:
        """Of the notifications made since the last tick, those this instance sends."""

    def holding(self) -> bool:
        """Whether notifications wait for the others' answer (none may be checkpointed past meanwhile)."""


class Alone:
    """One instance alone (`state: {backend: local}`): its silences are its store's; it sends what it makes."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def silences(self) -> list[Silence]:
        return self.store.records.silences(time.time_ns())

    def tick(self) -> None:
        return None

    def settle(self, made: list[Notification]) -> list[Notification]:
        return made

    def holding(self) -> bool:
        return False


class Outlet:
    def __init__(self, show: Callable[[Notification], None], dispatcher: Dispatcher | None, shared: Shared) -> None:
        self.dispatcher, self.shared = dispatcher, shared
        self._pending: list[Notification] = []
        self.fanout = Fanout(show, self._keep)

    def send(self, notification: Notification) -> None:
        self.fanout.send(notification)

    def _keep(self, notification: Notification) -> None:
        self._pending.append(notification)

    def commit(self) -> None:
        """The notifications made since the last commit go to the outbox in one transaction (the follower calls
        this before any checkpoint moves past their lines)."""
        pending = self.shared.settle(self._pending)  # of a fleet's instances, the one that claims one sends it
        self._pending = []
        if pending and self.dispatcher is not None:
            self.dispatcher.enqueue_many(pending)

    def reroute(self, route: Router) -> None:
        """A reload's routes (the channels themselves need a restart)."""
        if self.dispatcher is not None:
            self.dispatcher.route = route
