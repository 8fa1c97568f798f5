"""Redis unreachable when logpipe starts: never a crash; alerting goes on locally, /health says why."""

from __future__ import annotations

from pathlib import Path

from logpipe.engine import Engine
from logpipe.fleet.redisbackend import RedisBackend
from logpipe.fleet.sync import HEALTH_KEY, FleetSync
from logpipe.incidents.book import IncidentBook
from logpipe.state.store import StateStore
from logpipe.telemetry import Telemetry
from tests.integration.receivers import free_port
from tests.unit.engine.helpers import SECOND, event, ruleset

RULES = """
rules:
  - id: payment-failed
    title: Payment failed
    severity: critical
    runbook: check the provider
    match: {message: {contains: "Payment failed"}}
    examples: {match: ['Payment failed: card_declined']}
"""


def test_with_redis_unreachable_from_the_start_a_notification_is_sent_locally_and_health_is_degraded(
    tmp_path: Path,
) -> None:
    engine = Engine(ruleset(tmp_path, RULES))
    book = IncidentBook(engine.ruleset)
    telemetry = Telemetry()
    (tmp_path / "state").mkdir()
    store = StateStore(tmp_path / "state" / "state.sqlite")
    backend = RedisBackend(f"redis://user:s3cretpw@127.0.0.1:{free_port()}/0", "p:", "host-0", 60_000)
    sync = FleetSync(backend, engine, book, store, telemetry, 60 * SECOND)
    try:
        made = book.observe_all(engine.process(event(0, "Payment failed: card_declined")))
        sync.tick(force=True)
        sent = sync.settle(made)
        assert [(n.kind, n.count, n.total) for n in sent] == [("firing", 1, 1)]
        problem = telemetry.health()["problems"][HEALTH_KEY]  # type: ignore[index]
        assert problem.startswith("state backend unreachable: ConnectionError")
        assert "s3cretpw" not in problem
        assert telemetry.registry.get_sample_value("logpipe_fleet_claims_total", {"outcome": "local"}) == 1
    finally:
        backend.close()
        store.close()
