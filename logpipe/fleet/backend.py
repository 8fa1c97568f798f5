"""The state backend interface: what a fleet of instances shares, and the local implementation (one instance
alone: every claim is its own, no other instance counts).

A backend is called once per flush tick, never per line: the sync (sync.py) gathers this instance's window
buckets, incident totals and silences, and `exchange` sends them and brings back the other instances' in one
round trip; `claim` decides, for the notifications made since the last tick, which this instance sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from logpipe.incidents.silences import Silence

Group = tuple[tuple[str, str], ...]
BucketValues = tuple[float, ...]  # ratio: (hits, total); aggregate: (count, sum, min, max)
LEASE_MS = 60_000  # a claim not delivered yet lives this long unless its owner renews it (it does, each tick)


class BackendUnreachable(Exception):
    """The shared store cannot be reached now: the caller carries on with local state (degraded)."""


class BackendUncertain(BackendUnreachable):
    """The store did not answer in time: what was asked may have been done (a claim made) or not. Asking the same
    again is safe; acting as if it was not done is not (a slow Redis: every instance would page)."""


@dataclass(frozen=True, slots=True)
class WindowShare:
    """One windowed rule's group as this instance counts it: its buckets (index -> values), all of them."""

    rule: str
    group: Group
    buckets: dict[int, BucketValues]
    ttl_ms: int  # the window and a bucket to spare: an instance that dies stops counting once it passes


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """Who sends this notification? `key` names what it says (the incident and its kind, level or period), so
    instances that made it with different numbers still claim the same thing."""

    key: str
    incident: str
    ttl_ms: int
    counted: bool  # the fleet's total for the incident comes with the answer (counted rules)
    leased: bool = False  # held as a lease until delivered; re-claimed by another instance if it expires


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    won: bool
    owner: str  # the instance that holds the claim
    total: int = 0  # counted: the fleet's matches in the incident so far
    count: int = 0  # counted and won: the fleet's matches not reported by an earlier notification
    shared: bool = False  # total, count and number are the fleet's (False: keep the notification's own)
    number: int = 0  # the incident's n-th notification fleet-wide: with the kind, its id


@dataclass(frozen=True, slots=True)
class Exchange:
    """What this instance sends at a tick."""

    windows: Sequence[WindowShare] = ()
    oldest_bucket: dict[str, int] = field(default_factory=dict)  # rule -> buckets before this are stale
    totals: dict[str, int] = field(default_factory=dict)  # incident id -> this instance's matches in it
    open_incidents: Sequence[tuple[str, Group]] = ()  # (rule, group) still open here: their names are kept
    silences: Sequence[Silence] | None = None  # this host's silences (None: not this tick)
    heartbeat: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Shared:
    """What the other instances have, brought back at a tick."""

    windows: dict[tuple[str, Group], dict[int, BucketValues]] = field(default_factory=dict)
    silences: list[Silence] | None = None


class FleetBackend(Protocol):
    instance: str

    def problem(self) -> str | None:
        """Why the shared store cannot be used now (None: it can)."""

    def reconnected(self) -> bool:
        """True once, at the first answer after the store was unreachable (the sync reconciles then)."""

    def incident_id(self, rule: str, group: Group, own_id: str) -> str:
        """The id the fleet knows the open incident of (rule, group) by; `own_id` if this instance opens it."""

    def exchange(self, sent: Exchange) -> Shared:
        """Send this instance's share and bring back the others' (one round trip). Raises BackendUnreachable."""

    def claim(
        self, requests: Sequence[ClaimRequest], totals: dict[str, int], reported: dict[str, int] | None = None
    ) -> list[ClaimAnswer]:
        """Claim each notification (after storing `totals`, so the counts include them, and adding `reported`:
        matches this instance notified while the store was away). Raises BackendUnreachable."""

    def settle_claims(self, renew: Sequence[str], done: Sequence[str], check: Sequence[str]) -> dict[str, str | None]:
        """Renew the leases of this instance's claims not delivered yet, mark delivered ones done, and read the
        claims others hold (None: expired, its owner died before delivering). Raises BackendUnreachable."""

    def release(self, rule: str, group: Group, incident: str) -> None:
        """The incident is resolved fleet-wide: the next one of (rule, group) gets a new id."""

    def take_skipped(self) -> dict[str, int]:
        """Records read back and refused since the last call (not logpipe's, or garbled), by kind."""

    def close(self) -> None: ...


class LocalBackend:
    """One instance alone (`state: {backend: local}`, the default): its own state is the whole state."""

    def __init__(self, instance: str = "local") -> None:
        self.instance = instance

    def problem(self) -> str | None:
        return None

    def reconnected(self) -> bool:
        return False

    def incident_id(self, rule: str, group: Group, own_id: str) -> str:
        return own_id

    def exchange(self, sent: Exchange) -> Shared:
        return Shared(silences=list(sent.silences) if sent.silences is not None else None)

    def claim(
        self, requests: Sequence[ClaimRequest], totals: dict[str, int], reported: dict[str, int] | None = None
    ) -> list[ClaimAnswer]:
        return [ClaimAnswer(True, self.instance) for _ in requests]

    def settle_claims(self, renew: Sequence[str], done: Sequence[str], check: Sequence[str]) -> dict[str, str | None]:
        return {}

    def release(self, rule: str, group: Group, incident: str) -> None:
        return None

    def take_skipped(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        return None


def __getattr__(name: str) -> object:
    if name == "StateBackend":  # its name until the redesign (issue 26)
        import warnings

        warnings.warn("StateBackend is FleetBackend now", DeprecationWarning, stacklevel=2)
        return FleetBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
