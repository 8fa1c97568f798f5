"""Three instances' engines and incident books sharing state through a real redis-server (in one process, on an
explicit clock): the fleet's error rate, one incident for a burst split across hosts, and Redis going away.

Each instance's sync and Redis client run on a clock of their own that the test steps with the events' time
(Instance.flush): intervals, retries and lease checks pass as the events' seconds do, not the wall clock's."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from logpipe.engine import Engine
from logpipe.event import Event
from logpipe.fleet.backend import BackendUnreachable, ClaimRequest, Exchange, FleetBackend, LocalBackend
from logpipe.fleet.redisbackend import RedisBackend
from logpipe.fleet.sync import HEALTH_KEY, FleetSync
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.state.store import StateStore
from logpipe.telemetry import Telemetry
from tests.integration.redisserver import RedisServer
from tests.unit.engine.helpers import HTTP_EXTRACT, SECOND, T0, access, event, ruleset
from tests.waiting import wait_until

ERROR_RATE = (
    HTTP_EXTRACT
    + """
rules:
  - id: http-error-rate
    kind: ratio
    title: High HTTP error rate
    severity: critical
    runbook: look at the failing route
    base: {http.status: {exists: true}}
    match: {http.status: {gte: 500}}
    window: 30s
    evaluate_every: 5s
    min_base: 20
    for: 10s
    thresholds: {warning: 0.06, critical: 0.09}
    examples:
      match: ['GET /api/v1/clips 500 20ms - 10b - 10.0.0.1 "x"']
      no_match: ['GET /api/v1/clips 200 20ms - 10b - 10.0.0.1 "x"']
"""
)
PAYMENTS = """
rules:
  - id: payment-failed
    title: Payment failed
    severity: critical
    runbook: check the provider
    match: {message: {contains: "Payment failed"}}
    throttle: 5s
    resolve_after: 10s
    examples: {match: ['Payment failed: card_declined']}
"""


class Clock:
    """An instance's monotonic clock (seconds), stepped by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Backends = Callable[[str, Clock], FleetBackend]  # an instance's name and clock -> its state backend


@dataclass
class Instance:
    engine: Engine
    book: IncidentBook
    sync: FleetSync
    telemetry: Telemetry
    store: StateStore
    clock: Clock
    sent: list[Notification]
    pending: list[Notification]

    def feed(self, events: list[Event]) -> None:
        for item in events:
            self.pending.extend(self.book.observe_all(self.engine.process(item)))

    def flush(self, now: int) -> None:
        """What the follower does each tick: advance the timers, sync, claim, send (its clock at the events')."""
        self.clock.now = (now - T0) / SECOND
        self.engine.advance(now)
        self.pending.extend(self.book.advance(now))
        self.sync.tick(force=True)
        sent = self.sync.settle([n for n in self.pending if not n.silenced])
        self.store.outbox.put_many([(n.id, {"id": n.id}, ["oncall"]) for n in sent])  # the outbox, not delivered yet
        self.sent.extend(sent)
        self.pending.clear()

    def deliver(self) -> None:
        for delivery in self.store.outbox.deliveries("pending"):
            self.store.outbox.delivered(delivery["alert_id"], "oncall")


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Callable[[str, Backends], list[Instance]]]:
    made: list[Instance] = []

    def build(rules: str, backend: Backends) -> list[Instance]:
        for index in range(3):
            engine = Engine(ruleset(tmp_path, rules))
            book = IncidentBook(engine.ruleset)
            (tmp_path / f"host-{index}").mkdir()
            store = StateStore(tmp_path / f"host-{index}" / "state.sqlite")
            telemetry, clock = Telemetry(), Clock()
            shared = backend(f"host-{index}", clock)
            sync = FleetSync(shared, engine, book, store, telemetry, 3600 * SECOND, clock=clock)
            made.append(Instance(engine, book, sync, telemetry, store, clock, [], []))
        return made

    yield build
    for instance in made:
        instance.sync.backend.close()
        instance.store.close()


def redis_backend(server: RedisServer) -> Backends:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    return lambda name, clock: RedisBackend(server.url, prefix, name, 3600_000, clock=clock)


def local_backend(name: str, clock: Clock) -> FleetBackend:
    return LocalBackend(name)


def requests(second: int, errors: int, per_second: int = 20) -> list[Event]:
    return [access(second + i / per_second, 500 if i < errors else 200) for i in range(per_second)]


def run_error_rates(instances: list[Instance], seconds: int = 60) -> list[Notification]:
    for second in range(seconds):
        for instance, errors in zip(instances, (1, 3, 2), strict=True):  # 5 %, 15 %, 10 % of 20 per second
            instance.feed(requests(second, errors))
        for instance in instances:
            instance.flush(T0 + second * SECOND)
    return [n for instance in instances for n in instance.sent]


def test_error_rates_of_5_15_and_10_percent_on_three_hosts_are_one_critical_at_the_fleet_rate_of_10_percent(
    fleet: Callable[..., list[Instance]], redis_server: RedisServer
) -> None:
    sent = run_error_rates(fleet(ERROR_RATE, redis_backend(redis_server)))
    assert [(n.rule, n.kind, n.severity) for n in sent] == [("http-error-rate", "firing", "critical")]
    (page,) = sent
    # the fleet's rate (each host reads the others' buckets as of their last sync, up to a tick old)
    assert page.value == pytest.approx(0.10, abs=0.005)
    assert page.count == pytest.approx(0.10 * 900, abs=5)  # 5xx of the 900 requests of the 15 s seen


def test_without_the_fleet_the_same_traffic_pages_once_per_host_above_the_threshold(
    fleet: Callable[..., list[Instance]],
) -> None:
    """The contrast: each host alone reads 5 %, 15 % and 10 %, and the two above 9 % page."""
    sent = run_error_rates(fleet(ERROR_RATE, local_backend))
    assert sorted((n.kind, n.severity, round(n.value or 0, 2)) for n in sent) == [
        ("firing", "critical", 0.1),
        ("firing", "critical", 0.15),
    ]


def test_a_payment_failure_burst_split_across_three_hosts_is_one_incident_whose_counts_add_up(
    fleet: Callable[..., list[Instance]], redis_server: RedisServer
) -> None:
    instances = fleet(PAYMENTS, redis_backend(redis_server))
    failures = 0
    for second in range(40):
        for index, instance in enumerate(instances):
            if second < 15 and (second + index) % 2 == 0:  # 8, 7 and 8 failures, interleaved
                instance.feed([event(second + index / 3, f"Payment failed: card_declined (host {index})")])
                failures += 1
            else:
                instance.feed([event(second + index / 3, "tick")])
        for instance in instances:
            instance.flush(T0 + second * SECOND)
    sent = [n for instance in instances for n in instance.sent]
    assert len({n.incident for n in sent}) == 1, sent
    kinds = [n.kind for n in sent]
    assert (kinds[0], kinds[-1]) == ("firing", "resolved"), kinds
    assert set(kinds[1:-1]) <= {"update"}, kinds
    assert sum(n.count for n in sent) == failures == sent[-1].total == 23
    assert all(n.count for n in sent if n.kind == "update"), sent  # no update without news
    claimed_elsewhere = sum(
        i.telemetry.registry.get_sample_value("logpipe_fleet_claims_total", {"outcome": "elsewhere"}) or 0
        for i in instances
    )
    assert claimed_elsewhere >= 4  # the other two hosts' firing and resolution, at least: counted, not silent


def test_with_redis_away_a_host_alerts_on_its_own_and_once_it_is_back_no_host_pages_that_incident_again(
    fleet: Callable[..., list[Instance]], tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        first, second, _ = fleet(PAYMENTS, redis_backend(server))
        first.flush(T0)
        assert first.telemetry.health()["status"] == "ok"
        server.stop()
        for at in range(4):  # host 0 alone sees the first failures, Redis away
            first.feed([event(at, "Payment failed: card_declined")])
            first.flush(T0 + at * SECOND)
        assert [(n.kind, n.count) for n in first.sent] == [("firing", 1)]  # alerting goes on, locally
        health = first.telemetry.health()
        assert health["status"] == "degraded"
        assert str(health["problems"][HEALTH_KEY]).startswith("state backend unreachable")  # type: ignore[index]
        server.start()
        first.flush(T0 + 4 * SECOND)  # a second on: past the pause between attempts (RETRY_EVERY)
        assert first.telemetry.health() == {"status": "ok", "problems": {}, "last_reload": None}
        for at in range(5, 9):  # now host 1 sees failures of the same incident
            second.feed([event(at, "Payment failed: card_declined")])
            first.feed([event(at, "tick")])
            second.flush(T0 + at * SECOND)
            first.flush(T0 + at * SECOND)
        for at in range(9, 40):
            for host in (first, second):
                host.feed([event(at, "tick")])
                host.flush(T0 + at * SECOND)
        sent = first.sent + second.sent
        assert [n.kind for n in sent].count("firing") == 1, sent  # paged once, by host 0, while Redis was away
        assert len({n.incident for n in sent}) == 1
        assert [n.kind for n in sent].count("resolved") == 1
        assert sum(n.count for n in sent) == 8  # host 0's 4 and host 1's 4: counts merged, none twice
    finally:
        server.stop()


def test_over_tls_as_an_acl_user_confined_to_the_prefix_the_fleet_works_and_a_wrong_password_is_not_printed(
    tmp_path: Path,
) -> None:
    """rediss:// with a CA, an ACL user that may touch only keys under the deployment's prefix (so every key the
    fleet uses carries it), and the default user off."""
    cert, key = tmp_path / "redis.crt", tmp_path / "redis.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)),
            *("-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = RedisServer(tmp_path / "redis")
    server.options = ["--port", "0", "--tls-port", str(server.port), "--tls-cert-file", str(cert)]
    server.options += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
    server.options += ["--user", "default", "off", "--user", "logpipe", "on", ">s3cretpw", "~deploy-a:*", "+@all"]
    server.ping = {
        "host": "127.0.0.1",
        "ssl": True,
        "ssl_ca_certs": str(cert),
        "username": "logpipe",
        "password": "s3cretpw",
    }
    server.start()
    try:
        url = f"rediss://logpipe:s3cretpw@127.0.0.1:{server.port}/0?ssl_ca_certs={cert}"
        first, second = (RedisBackend(url, "deploy-a:", name, 60_000) for name in ("host-0", "host-1"))
        request = ClaimRequest("inc:firing:critical", "inc", 60_000, counted=True)
        (won,) = first.claim([request], {"inc": 2})
        (lost,) = second.claim([request], {"inc": 3})
        assert (won.won, won.count, lost.won, lost.owner, lost.total) == (True, 2, False, "host-0", 5)
        assert first.incident_id("rule", (), "1" * 32) == second.incident_id("rule", (), "2" * 32) == "1" * 32
        second.exchange(Exchange(silences=[]))
        assert (first.problem(), second.problem()) == (None, None)
        wrong = RedisBackend(url.replace("s3cretpw", "wr0ngpw"), "deploy-a:", "host-2", 60_000)
        with pytest.raises(BackendUnreachable) as raised:
            wrong.claim([request], {})
        assert "wr0ngpw" not in str(raised.value)
        assert str(wrong.problem()).startswith("state backend unreachable: AuthenticationError")
        for backend in (first, second, wrong):
            backend.close()
    finally:
        server.stop()


@pytest.mark.parametrize("delivered", [False, True], ids=["claimer-stops-undelivered", "claimer-delivers"])
def test_a_notification_whose_claimer_stops_before_delivering_it_is_sent_by_another_once_its_lease_ends(
    fleet: Callable[..., list[Instance]], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, delivered: bool
) -> None:
    monkeypatch.setattr("logpipe.fleet.sync.LEASE_MS", 600)
    monkeypatch.setattr("logpipe.fleet.redisbackend.LEASE_MS", 600)
    first, second, _ = fleet(PAYMENTS, redis_backend(redis_server))
    for host in (first, second):
        host.feed([event(0, "Payment failed: card_declined")])
        host.flush(T0)
    assert [n.kind for n in first.sent] == ["firing"]
    assert second.sent == []  # claimed by host 0
    if delivered:
        first.deliver()
        first.flush(T0)  # its next tick marks the claim done
    else:  # host 0 stops: no tick renews its lease, which Redis lets expire (on Redis's own clock)
        claim = f"{first.sync.backend.prefix}c:{first.sent[0].incident}:firing:critical"
        stored = redis.Redis.from_url(redis_server.url)
        wait_until(lambda: not stored.exists(claim), what=f"the lease {claim} to end in Redis")
        stored.close()
    for at in range(1, 10):  # host 1 ticks on, past the time it looks at the claim again
        second.feed([event(at * 0.1, "tick")])
        second.flush(T0 + at * SECOND // 10)
    reclaimed = second.telemetry.registry.get_sample_value("logpipe_fleet_claims_total", {"outcome": "reclaimed"})
    if delivered:
        assert second.sent == []
        assert reclaimed is None
    else:
        assert [(n.kind, n.incident, n.total) for n in second.sent] == [("firing", first.sent[0].incident, 2)]
        assert reclaimed == 1


def test_a_group_value_holding_a_secret_reaches_redis_redacted(redis_server: RedisServer) -> None:
    """Redis may be on another host: a group's values (a capture can hold anything) are stored redacted."""
    from logpipe.fleet.backend import Exchange, WindowShare

    backend = redis_backend(redis_server)("host-0", Clock())
    secret = "sk_live_51Habcdefghijklmnopqrstu"
    group = (("user", "bob@example.com"), ("key", secret))
    try:
        backend.exchange(Exchange(windows=[WindowShare("http-error-rate", group, {}, 60_000)]))
        stored = b"".join(
            key + b"".join(redis.Redis.from_url(redis_server.url).hgetall(key).values())
            for key in redis.Redis.from_url(redis_server.url).keys(backend.prefix + "*")
        )
    finally:
        backend.close()
    assert stored  # the group was written
    assert b"bob@example.com" not in stored
    assert secret.encode() not in stored
