"""Every wait has a deadline, and the fleet's claims keep one page under latency (issue 28, finding 11). Before,
with Redis answering around its fixed 0.5 s timeout, 80 of 82 pages were sent twice: a claim that timed out had
often been made, and each instance then paged on its own. Now the timeout is `state.timeout`, a whole call has
twice that (a watchdog cuts the connection), and a claim that timed out is asked again (the same claim, by the
same instance) until Redis answers; it goes out alone only after UNDECIDED_FOR without an answer.

The real Redis sits behind a loopback proxy that holds its answers back (latencyproxy.py)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from logpipe.fleet import sync as fleet_sync
from logpipe.fleet.backend import BackendUncertain
from logpipe.fleet.redisbackend import RedisBackend
from tests.integration import test_fleet_state
from tests.integration.latencyproxy import latency_proxy
from tests.integration.redisserver import RedisServer
from tests.integration.test_fleet_state import PAYMENTS, Backends, Instance
from tests.unit.engine.helpers import SECOND, T0, event
from tests.waiting import wait_until

fleet = test_fleet_state.fleet  # the three hosts' fixture
TIMEOUT = 0.3  # state.timeout, short so that the test is


def backends(url: str, prefix: str) -> Backends:
    return lambda name, clock: RedisBackend(url, prefix, name, 3600_000, TIMEOUT, clock=clock)


def _claims(host: Instance, outcome: str) -> float:
    return host.telemetry.registry.get_sample_value("logpipe_fleet_claims_total", {"outcome": outcome}) or 0.0


def test_every_wait_has_a_deadline_claims_answered_late_still_give_one_page_per_incident(
    fleet: Callable[[str, Backends], list[Instance]], redis_server: RedisServer
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    # the claim script's answers come past the timeout: Redis made each claim, neither host heard which
    with latency_proxy(redis_server.port, TIMEOUT * 1.5) as latency:
        latency.only = b"EVALSHA"
        url = f"redis://127.0.0.1:{latency.port}/0"
        first, second, _ = fleet(PAYMENTS, backends(url, prefix))
        hosts = (first, second)
        for host in hosts:  # the wall clock, as the latency is: the fixture's steps 100 s per incident, past a lease
            host.sync.clock = host.sync.backend.clock = time.monotonic  # type: ignore[attr-defined]
        for incident in range(3):  # three incidents, one after another, each seen by both hosts
            latency.delay = TIMEOUT * 1.5
            for host in hosts:
                host.feed([event(incident * 100, f"Payment failed: card_declined (order {incident})")])
                host.flush(T0 + incident * 100 * SECOND)
            assert all(host.sync.holding() for host in hosts)  # both claims timed out: held, not sent alone
            latency.delay = 0.0  # Redis answers in time again

            def decided(at: int = T0 + incident * 100 * SECOND) -> bool:
                for host in hosts:
                    host.flush(at)
                return not any(host.sync.holding() for host in hosts)

            wait_until(decided, timeout=fleet_sync.UNDECIDED_FOR, what="both hosts' claims answered")
            for host in hosts:  # the incident resolves, quietly, before the next
                host.feed([event(incident * 100 + 50, "tick")])
                host.flush(T0 + (incident * 100 + 50) * SECOND)
    pages = [(n.incident, n.kind) for host in hosts for n in host.sent if n.kind == "firing"]
    assert len(pages) == 3, pages  # one per incident, not one per host
    assert len(set(pages)) == 3
    assert sum(_claims(host, "local") for host in hosts) == 0  # none went out alone


def test_every_wait_has_a_deadline_a_claim_never_answered_still_pages_once_its_time_is_up(
    fleet: Callable[[str, Backends], list[Instance]], redis_server: RedisServer
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    with latency_proxy(redis_server.port, TIMEOUT * 1.5) as latency:
        latency.only = b"EVALSHA"  # slow for good: holding a page for ever would be worse than paging twice
        url = f"redis://127.0.0.1:{latency.port}/0"
        first, _, _ = fleet(PAYMENTS, backends(url, prefix))
        first.feed([event(0, "Payment failed: card_declined (order 1)")])

        def paged() -> bool:
            first.flush(T0)
            return any(n.kind == "firing" for n in first.sent)

        wait_until(paged, timeout=fleet_sync.UNDECIDED_FOR * 3, what="the page sent alone")
    assert not first.sync.holding()
    assert _claims(first, "local") == 1
    assert first.telemetry.problems()["state"].startswith("state backend too slow")


def test_every_wait_has_a_deadline_for_the_whole_call_a_redis_answering_a_byte_at_a_time_is_cut_off(
    redis_server: RedisServer,
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    redis_server.client().set(f"{prefix}c:big", "x" * 10_000)  # an answer of 10 kB, a byte every 0.1 s: 17 min
    with latency_proxy(redis_server.port, TIMEOUT / 3) as latency:
        latency.dribble = True  # every read gets a byte within its timeout
        backend = RedisBackend(f"redis://127.0.0.1:{latency.port}/0", prefix, "host-0", 3600_000, TIMEOUT)
        ended: list[BaseException | None] = []

        def ask() -> None:
            try:
                backend.settle_claims([], [], ["big"])
            except BaseException as error:  # what ended the call is the test's answer
                ended.append(error)
            else:
                ended.append(None)

        threading.Thread(target=ask, daemon=True).start()
        wait_until(lambda: ended, timeout=30 * TIMEOUT, what="the call cut off past its whole deadline")
        backend.close()
    assert isinstance(ended[0], BackendUncertain), ended
    assert (backend.problem() or "").startswith("state backend too slow")
