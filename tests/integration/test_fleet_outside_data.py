"""Data read from outside is validated at the boundary (issue 28, findings 2 and 17): whatever lies under the
fleet's Redis prefix (an older key format, another tool on the same prefix) or answers on Redis's port (a server
answering `+OK` to everything), the fleet's instances go on alerting: bad records are skipped and counted, a bad
answer makes Redis unusable (degraded, local alerting), never a traceback."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.fleet.redisbackend import RedisBackend, group_key
from logpipe.fleet.sync import HEALTH_KEY
from tests.integration import test_fleet_state
from tests.integration.redisserver import RedisServer
from tests.integration.test_fleet_state import ERROR_RATE, PAYMENTS, Backends, Instance, run_error_rates
from tests.unit.engine.helpers import SECOND, T0, event

fleet = test_fleet_state.fleet  # the three hosts' fixture
GARBAGE = ["", "not json", "[1,2,3]", '[["a"]]', '{"id": 1}', "nan,inf", "1,2,3", "-1,2", "x" * 10_000, "\x00\xff"]


def plant(server: RedisServer, prefix: str) -> None:
    """Keys under the prefix that no logpipe of this version wrote, of every kind the fleet reads."""
    client = server.client()
    rule, fleet_group = "http-error-rate", group_key(())
    client.hset(f"{prefix}g:{rule}", mapping={f"k{n}": text for n, text in enumerate(GARBAGE)})
    window = {f"{n}|old-host": text for n, text in enumerate(GARBAGE)}
    window |= {"x|old-host": "1,2", "5": "1,2", "99999999999999999999|old-host": "1,2", "7|": "1,2"}
    client.hset(f"{prefix}w:{rule}:{fleet_group}", mapping=window)
    client.hset(f"{prefix}silences", mapping={f"s{n}": text for n, text in enumerate(GARBAGE)})
    client.hset(f"{prefix}members", mapping={f"m{n}": text for n, text in enumerate(GARBAGE)})
    client.set(f"{prefix}o:{rule}:{fleet_group}", "not an incident id")
    client.close()


def skipped(instance: Instance) -> dict[str, float]:
    registry = instance.telemetry.registry
    kinds = ("group", "window", "silence", "incident")
    return {k: registry.get_sample_value("logpipe_fleet_records_skipped_total", {"kind": k}) or 0 for k in kinds}


def test_outside_data_validated_garbage_under_the_prefix_is_skipped_counted_and_the_fleet_still_pages_once(
    fleet: Callable[[str, Backends], list[Instance]], redis_server: RedisServer
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    plant(redis_server, prefix)
    instances = fleet(
        ERROR_RATE, lambda name, clock: RedisBackend(redis_server.url, prefix, name, 3600_000, clock=clock)
    )
    sent = run_error_rates(instances)
    assert [(n.rule, n.kind, n.severity) for n in sent] == [("http-error-rate", "firing", "critical")]
    assert all(i.telemetry.health() == {"status": "ok", "problems": {}, "last_reload": None} for i in instances)
    counts = skipped(instances[0])
    assert all(counts[kind] > 0 for kind in ("group", "window", "silence")), counts


def test_outside_data_validated_a_key_of_another_type_degrades_with_the_reason_and_alerting_goes_on(
    fleet: Callable[[str, Backends], list[Instance]], redis_server: RedisServer
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    client = redis_server.client()
    client.set(f"{prefix}silences", "a string where the fleet keeps a hash")
    client.close()
    first, *_ = fleet(PAYMENTS, lambda name, clock: RedisBackend(redis_server.url, prefix, name, 3600_000, clock=clock))
    first.feed([event(0, "Payment failed: card_declined")])
    first.flush(T0)
    assert [n.kind for n in first.sent] == ["firing"]
    problem = str(first.telemetry.health()["problems"][HEALTH_KEY])  # type: ignore[index]
    assert problem.startswith("state backend unusable: a key under the prefix is not what logpipe keeps"), problem
    assert f"{prefix}silences" in problem


@pytest.fixture
def answers_ok() -> Iterator[str]:
    """A server on loopback that answers `+OK` to every command: not Redis, though it looks alive."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def answer(connection: socket.socket) -> None:
        with connection:
            while not stopping.is_set():
                data = connection.recv(65536)
                if not data:
                    return
                commands = data.count(b"\r\n*") + data.startswith(b"*")
                connection.sendall(b"+OK\r\n" * max(commands, 1))

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stopping.set()
    listener.close()


def test_outside_data_validated_a_server_answering_ok_to_everything_is_not_redis_and_alerting_goes_on(
    fleet: Callable[[str, Backends], list[Instance]], answers_ok: str
) -> None:
    first, second, _ = fleet(PAYMENTS, lambda name, clock: RedisBackend(answers_ok, "p:", name, 3600_000, clock=clock))
    for at in range(3):
        for host in (first, second):
            host.feed([event(at, "Payment failed: card_declined")])
            host.flush(T0 + at * SECOND)
    assert [n.kind for n in first.sent] == [n.kind for n in second.sent] == ["firing"]  # each alone, as if down
    problem = str(first.telemetry.health()["problems"][HEALTH_KEY])  # type: ignore[index]
    assert problem.startswith("state backend answered something other than Redis"), problem


def test_outside_data_validated_logpipe_fleet_lists_the_heartbeats_and_skips_garbage(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    plant(redis_server, prefix)
    client = redis_server.client()
    client.hset(f"{prefix}members", "host-a", '{"host":"a","at":1.0,"lag":0.5,"containers":["api"]}')
    client.close()
    config = tmp_path / "logpipe.yml"
    config.write_text(
        f"state_dir: {tmp_path / 'state'}\nstate: {{backend: redis, url: '{redis_server.url}', prefix: '{prefix}'}}\n"
    )
    result = CliRunner().invoke(main, ["fleet", "--config", str(config)])
    assert result.exit_code == 0, result.output
    (_, line) = result.output.splitlines()
    assert line.split()[:2] == ["host-a", "a"]
