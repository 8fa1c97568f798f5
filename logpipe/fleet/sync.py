"""The fleet sync: joins a state backend to this instance's engine and incident book, once per flush tick.

- windows: the windowed rules' buckets that changed are sent (absolute values, per instance), and the other
  instances' buckets come back into each window's `others`, so an evaluation sees the fleet's totals;
- notifications: before one goes to the outbox, a claim decides which instance sends it; the others count it as
  claimed elsewhere. A counted incident's notification carries the fleet's counts (each instance's total for it
  is stored beside the claim);
- silences: this host's are published, and the fleet's are the ones in force;
- the backend unreachable: local state only, /health degraded; when it answers again, open incidents take the
  names the fleet knows them by and what was sent meanwhile is claimed, so nothing is paged again.

Its intervals and lease checks run on an injected monotonic clock (`clock`, seconds), so a test steps it with the
events it feeds rather than waiting for it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog
from prometheus_client import Counter

from logpipe.engine.engine import Engine
from logpipe.fleet.backend import (
    LEASE_MS,
    BackendUncertain,
    BackendUnreachable,
    ClaimAnswer,
    ClaimRequest,
    Exchange,
    FleetBackend,
)
from logpipe.fleet.windows import SharedWindows
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification, notification_id
from logpipe.incidents.silences import Silence
from logpipe.state.store import StateStore
from logpipe.telemetry import Telemetry

log = structlog.get_logger("logpipe.fleet")
SYNC_EVERY = 0.25  # seconds between exchanges (the follower ticks every 0.1 s)
SILENCES_EVERY = 1.0
RENEW_EVERY = 2.0  # seconds: open incidents' names renewed, heartbeat sent
UNDECIDED_FOR = 10.0  # seconds a claim that timed out is asked again before its notification goes out alone
HEALTH_KEY = "state"


class FleetSync:
    def __init__(
        self,
        backend: FleetBackend,
        engine: Engine,
        book: IncidentBook,
        store: StateStore,
        telemetry: Telemetry,
        claim_ttl: int,
        heartbeat: Callable[[], dict[str, object]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend, self.engine, self.book, self.store, self.telemetry = backend, engine, book, store, telemetry
        self.clock = clock
        self.claim_ttl_ms = max(1000, claim_ttl // 1_000_000)
        self.heartbeat = heartbeat
        book.identity = backend.incident_id
        self.windows = SharedWindows(engine)
        self._totals_sent: dict[str, int] = {}
        self._silences: list[Silence] = []
        # the first tick exchanges, publishes and renews whatever the clock reads (an injected one starts at 0)
        self._at = self._silences_at = self._renewed_at = -math.inf
        self._while_down: list[ClaimRequest] = []  # claims made locally while unreachable, to record on return
        # claims that timed out (made or not: unknown), asked again each tick: (notification, claim, first asked)
        self._undecided: list[tuple[Notification, ClaimRequest, float]] = []
        self._reported_while_down: dict[str, int] = {}  # incident -> matches notified meanwhile
        self._mine: dict[str, str] = {}  # claim key -> notification id: won, in this outbox, not delivered yet
        # claim key -> what this instance made and another claimed, until the other delivers it (or dies first)
        self._elsewhere: dict[str, tuple[Notification, ClaimRequest, float]] = {}
        self._reclaimed: list[Notification] = []
        self.claims = Counter(
            "logpipe_fleet_claims",
            "Notifications by who sends them: this instance (won), another (elsewhere), this one while the "
            "state backend is unreachable (local), or this one after their claimer stopped undelivered (reclaimed)",
            ["outcome"],
            registry=telemetry.registry,
        )
        self.skipped = Counter(
            "logpipe_fleet_records_skipped", "State backend records refused: not logpipe's, or garbled", ["kind"],
            registry=telemetry.registry,
        )  # fmt: skip
        self._skipped_logged: set[str] = set()

    # --- the tick -------------------------------------------------------------------------------------------
    def tick(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._at < SYNC_EVERY:
            return
        self._at = now
        shares, oldest, pushed = self.windows.shares()
        totals = self._changed_totals()
        renew = now - self._renewed_at >= RENEW_EVERY
        publish = now - self._silences_at >= SILENCES_EVERY
        sent = Exchange(
            windows=shares,
            oldest_bucket=oldest,
            totals=totals,
            open_incidents=[(inc.rule, inc.group) for inc in self.book.open.values()] if renew else (),
            silences=self.store.records.silences(time.time_ns()) if publish else None,
            heartbeat=self.heartbeat() if renew and self.heartbeat is not None else None,
        )
        try:
            shared = self.backend.exchange(sent)
        except BackendUnreachable as error:
            self._unreachable(str(error))
            return
        self._count_skipped()
        if self.backend.reconnected():
            self._reconcile()
        self.telemetry.degraded(HEALTH_KEY, None)
        self.windows.pushed.update(pushed)
        self._totals_sent.update(totals)
        if renew:
            self._renewed_at = now
        if shared.silences is not None:
            self._silences, self._silences_at = shared.silences, now
        self.windows.apply(shared.windows, oldest)
        self._leases(now)

    def silences(self) -> list[Silence]:
        """The silences in force: the fleet's (this host's among them), or this host's while Redis is away."""
        local = self.store.records.silences(time.time_ns())
        if self.backend.problem() is not None:
            return local
        seen = {silence.id for silence in local}
        return local + [silence for silence in self._silences if silence.id not in seen]

    def _count_skipped(self) -> None:
        for kind, count in self.backend.take_skipped().items():
            self.skipped.labels(kind).inc(count)
            if kind not in self._skipped_logged:  # once per kind: a stale key would say it at every tick
                self._skipped_logged.add(kind)
                log.warning("skipped records not logpipe's in the state backend (another tool on the prefix?)",
                            kind=kind, count=count)  # fmt: skip

    # --- claims ---------------------------------------------------------------------------------------------
    def settle(self, notifications: Sequence[Notification]) -> list[Notification]:
        """The notifications this instance sends, with the fleet's counts; the others are claimed elsewhere.

        A claim that timed out may have been made: Redis slow, not gone. Those notifications are held and claimed
        again at the next tick (a claim repeated by its maker is the same claim, with the same number), and sent
        alone only once UNDECIDED_FOR passes without an answer: under latency one page, not one per instance."""
        reclaimed, self._reclaimed = self._reclaimed, []
        now = time.monotonic()
        held, self._undecided = self._undecided, []
        ordered = held + [(n, self._request(n), now) for n in notifications]
        asked = [(n, r, since) for n, r, since in ordered if r is not None]
        if not asked:
            return reclaimed + [n for n, _, _ in ordered]
        totals = self._changed_totals()
        try:
            answers = self.backend.claim([r for _, r, _ in asked], totals)
        except BackendUncertain as error:
            self._unreachable(str(error))
            self._undecided = [(n, r, since) for n, r, since in asked if now - since < UNDECIDED_FOR]
            overdue = [(n, r) for n, r, since in asked if now - since >= UNDECIDED_FOR]
            return reclaimed + [n for n, r, _ in ordered if r is None] + self._alone(overdue)
        except BackendUnreachable as error:
            self._unreachable(str(error))
            return reclaimed + [n for n, r, _ in ordered if r is None] + self._alone([(n, r) for n, r, _ in asked])
        self._totals_sent.update(totals)
        decided: dict[str, tuple[ClaimAnswer, ClaimRequest]] = {
            n.id: (a, r) for (n, r, _), a in zip(asked, answers, strict=True)
        }
        kept = reclaimed
        for notification, _, _ in ordered:
            if notification.id not in decided:
                kept.append(notification)
                continue
            answer, request = decided[notification.id]
            if not answer.won:
                self.claims.labels("elsewhere").inc()
                if request.leased:  # kept until its sender delivers it: re-claimed if the sender dies first
                    self._elsewhere[request.key] = (notification, request, self.clock() + LEASE_MS / 2000)
                log.info("sent by another instance", incident=notification.incident, kind=notification.kind,
                         rule=notification.rule, by=answer.owner)  # fmt: skip
                continue
            if answer.shared and request.counted and not answer.count and notification.reason == "more matches":
                continue  # an update whose matches another instance's notification reported already: no news
            self.claims.labels("won").inc()
            if notification.kind == "resolved":
                self.backend.release(notification.rule, notification.group, notification.incident)
            claimed = _as_claimed(notification, answer, request)
            if request.leased and answer.shared:
                self._mine[request.key] = claimed.id
            kept.append(claimed)
        return kept

    def holding(self) -> bool:
        """Whether notifications wait for a claim's answer (the follower moves no checkpoint past them meanwhile)."""
        return bool(self._undecided)

    def _alone(self, pairs: Sequence[tuple[Notification, ClaimRequest]]) -> list[Notification]:
        """Sent by this instance on its own (the store unreachable), claimed when it answers again."""
        self._while_down.extend(request for _, request in pairs)
        for notification, request in pairs:
            if request.counted:
                incident = notification.incident
                self._reported_while_down[incident] = self._reported_while_down.get(incident, 0) + notification.count
        if pairs:
            self.claims.labels("local").inc(len(pairs))
        return [notification for notification, _ in pairs]

    def _request(self, notification: Notification) -> ClaimRequest | None:
        """What the notification says, as a claim; None for what is this instance's own (a folded symptom's
        breadcrumb, a notice about this logpipe)."""
        policy = self.book.policies.get(notification.rule)
        if policy is None or notification.folded_into is not None:
            return None
        incident, kind, ttl_ms = notification.incident, notification.kind, LEASE_MS
        if kind == "firing":
            key = f"{incident}:firing:{notification.severity}"
        elif kind == "update":  # one update per throttle, whoever's turn it is
            key, ttl_ms = f"{incident}:update", max(1000, int(policy.throttle * 0.8) // 1_000_000)
        elif kind == "reminder":
            key, ttl_ms = f"{incident}:reminder", max(1000, int(policy.repeat_interval * 0.8) // 1_000_000)
        elif kind == "flapping":
            key = f"{incident}:flapping"
        else:
            key = f"{incident}:{kind}"
        return ClaimRequest(key, incident, ttl_ms, policy.counted, leased=ttl_ms == LEASE_MS)

    def _leases(self, now: float) -> None:
        """Renew this instance's undelivered claims, mark delivered ones done; re-claim what another instance
        claimed and let expire undelivered (it died): nothing claimed is lost."""
        due = [key for key, (_, _, at) in self._elsewhere.items() if at <= now]
        if not self._mine and not due:
            return
        pending = {d["alert_id"] for d in self.store.outbox.deliveries("pending")} if self._mine else set()
        done = [key for key, notification_id in self._mine.items() if notification_id not in pending]
        renew = [key for key in self._mine if key not in done]
        try:
            held = self.backend.settle_claims(renew, done, due)
        except BackendUnreachable as error:
            self._unreachable(str(error))
            return
        for key in done:
            del self._mine[key]
        expired = []
        for key in due:
            notification, request, _ = self._elsewhere[key]
            value = held.get(key)
            if value is None:
                expired.append((notification, request))
            elif value.endswith("|done"):
                del self._elsewhere[key]  # delivered by its sender
            else:
                self._elsewhere[key] = (notification, request, now + LEASE_MS / 2000)
        if expired:
            self._reclaim(expired, now)

    def _reclaim(self, expired: list[tuple[Notification, ClaimRequest]], now: float) -> None:
        try:
            answers = self.backend.claim([request for _, request in expired], self._changed_totals())
        except BackendUnreachable as error:
            self._unreachable(str(error))
            return
        for (notification, request), answer in zip(expired, answers, strict=True):
            if not answer.won:  # another instance re-claimed it first
                self._elsewhere[request.key] = (notification, request, now + LEASE_MS / 2000)
                continue
            del self._elsewhere[request.key]
            claimed = _as_claimed(notification, answer, request)
            self._mine[request.key] = claimed.id
            self._reclaimed.append(claimed)
            self.claims.labels("reclaimed").inc()
            log.warning("sending a notification its claimer did not deliver (it stopped)", incident=claimed.incident,
                        kind=claimed.kind, rule=claimed.rule)  # fmt: skip

    def _changed_totals(self) -> dict[str, int]:
        return {
            incident.id: incident.total
            for incident in self.book.by_id.values()
            if incident.counted and incident.total and self._totals_sent.get(incident.id) != incident.total
        }

    # --- unreachable and back -------------------------------------------------------------------------------
    def _unreachable(self, problem: str) -> None:
        if self.telemetry.problems().get(HEALTH_KEY) is None:
            log.warning("alerting on local state until the state backend answers", problem=problem)
        self.telemetry.degraded(HEALTH_KEY, problem)
        self.windows.clear_others()
        self.windows.pushed.clear()  # everything is sent again once it answers (absolute values: nothing twice)
        self._totals_sent.clear()

    def _reconcile(self) -> None:
        """Redis answers again: each open incident takes the fleet's name for it, and what this instance paged
        meanwhile is claimed, so no other instance pages it again."""
        renamed: dict[str, str] = {}
        for incident in list(self.book.open.values()):
            fleet_id = self.backend.incident_id(incident.rule, incident.group, incident.id)
            if fleet_id != incident.id:
                renamed[incident.id] = fleet_id
                self.book.rename(incident.id, fleet_id)
        requests = [replace(r, incident=renamed.get(r.incident, r.incident)) for r in self._while_down]
        for incident in self.book.open.values():
            if incident.started:
                for level in incident.notified_levels or {incident.severity}:
                    requests.append(
                        ClaimRequest(f"{incident.id}:firing:{level}", incident.id, self.claim_ttl_ms, False)
                    )
        # sent already (locally): held for claim_ttl and marked done, so no instance waits to re-send them
        requests = [
            replace(r, key=_renamed_key(r.key, renamed), counted=False, ttl_ms=self.claim_ttl_ms, leased=False)
            for r in requests
        ]
        reported = {renamed.get(inc, inc): count for inc, count in self._reported_while_down.items()}
        totals = {inc.id: inc.total for inc in self.book.by_id.values() if inc.counted and inc.total}
        try:
            answers = self.backend.claim(requests, totals, reported)
            won = [request.key for request, answer in zip(requests, answers, strict=True) if answer.won]
            self.backend.settle_claims([], won, [])
        except BackendUnreachable as error:
            self._unreachable(str(error))
            return
        # a Redis restarted without persistence forgot every claim: what others claimed before the outage cannot
        # be told from what their owner never delivered, and paging twice is the worse mistake
        log.info("state backend back: reconciled", renamed=len(renamed), claims=len(requests),
                 claimed_elsewhere_forgotten=len(self._elsewhere))  # fmt: skip
        self._elsewhere.clear()
        self._while_down.clear()
        self._reported_while_down.clear()
        self.windows.pushed.clear()
        self._totals_sent.clear()


def _as_claimed(notification: Notification, answer: ClaimAnswer, request: ClaimRequest) -> Notification:
    """Numbered fleet-wide (instances number their own notifications alike, so their ids would collide), with
    the fleet's counts for a counted rule."""
    if not answer.shared:
        return notification
    fleet_id = notification_id(notification.incident, answer.number, notification.kind)
    if request.counted:
        return replace(notification, id=fleet_id, count=answer.count, total=max(answer.total, answer.count))
    return replace(notification, id=fleet_id)


def _renamed_key(key: str, renamed: dict[str, str]) -> str:
    incident, _, rest = key.partition(":")
    return f"{renamed.get(incident, incident)}:{rest}"
