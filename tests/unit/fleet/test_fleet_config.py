"""The `state:` section of logpipe.yml: a redis backend is checked at load (file:line), its URL's credentials
are never printed, and the local backend is today's behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.config.load import load_config
from logpipe.engine.windows import BucketCounts, BucketValues
from logpipe.errors import ConfigError
from logpipe.fleet.backend import ClaimRequest, LocalBackend
from logpipe.fleet.connect import open_backend

SECOND = 1_000_000_000


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logpipe.yml"
    path.write_text(text)
    return path


def test_a_redis_backend_without_a_url_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "state_dir: state\nstate:\n  backend: redis\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:3: state.url: the redis backend needs a url")


def test_a_url_that_is_not_redis_is_an_error_that_does_not_repeat_its_password(tmp_path: Path) -> None:
    path = write(tmp_path, "state:\n  backend: redis\n  url: http://admin:s3cretpw@redis.internal:6379\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert f"{path}:3: state.url:" in str(raised.value)
    assert "expected redis://host:port/db" in str(raised.value)
    assert "s3cretpw" not in str(raised.value)


def test_an_unknown_backend_names_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "state: {backend: etcd}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "state.backend" in str(raised.value)
    assert "'local' or 'redis'" in str(raised.value)


def test_the_local_backend_is_the_default_and_claims_everything_for_itself(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "state_dir: state\n"))
    backend = open_backend(config.state, config.state_dir)
    assert isinstance(backend, LocalBackend)
    (answer,) = backend.claim([ClaimRequest("i:firing:critical", "i", 1000, True)], {"i": 3})
    assert (answer.won, answer.shared) == (True, False)
    assert backend.incident_id("rule", (), "own") == "own"


def test_logpipe_fleet_with_a_local_backend_says_so_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fleet", "--config", str(write(tmp_path, "state_dir: state\n"))])
    assert result.exit_code == 1
    assert "the state backend is local" in result.output


def test_logpipe_fleet_with_redis_away_prints_the_reason_without_the_password(tmp_path: Path) -> None:
    config = "state: {backend: redis, url: 'redis://admin:s3cretpw@127.0.0.1:1/0'}\n"
    result = CliRunner().invoke(main, ["fleet", "--config", str(write(tmp_path, config))])
    assert result.exit_code == 1
    assert "state backend unreachable" in result.output
    assert "s3cretpw" not in result.output


def test_a_window_adds_the_other_instances_buckets_within_it() -> None:
    counts = BucketCounts(10 * SECOND)
    counts.add(5 * SECOND, hit=True)
    counts.others = {0: (2, 30), 1: (1, 10), 9: (5, 5)}  # bucket 9 lies outside [0 s, 20 s)
    assert counts.window(20 * SECOND, 20 * SECOND) == (4, 41)
    counts.drop_before(10 * SECOND)
    assert counts.others == {1: (1, 10), 9: (5, 5)}


def test_an_aggregate_adds_the_other_instances_counts_sums_and_extremes() -> None:
    values = BucketValues(10 * SECOND, quantiles=False)
    values.add(1 * SECOND, 100.0)
    values.others = {0: (3, 30.0, 5.0, 20.0)}
    assert values.aggregate(10 * SECOND, 10 * SECOND, "avg") == (130.0 / 4, 4)
    assert values.aggregate(10 * SECOND, 10 * SECOND, "min") == (5.0, 4)
    assert values.aggregate(10 * SECOND, 10 * SECOND, "max") == (100.0, 4)


def test_every_wait_has_a_deadline_state_timeout_is_the_redis_clients_and_is_bounded(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "state:\n  backend: redis\n  url: redis://127.0.0.1:1/0\n  timeout: 2s\n"))
    backend = open_backend(config.state, config.state_dir)  # connects lazily: nothing listens on port 1
    try:
        assert backend.timeout == 2.0  # type: ignore[attr-defined]
        assert backend.client.connection_pool.connection_kwargs["socket_timeout"] == 2.0  # type: ignore[attr-defined]
    finally:
        backend.close()
    path = write(tmp_path, "state:\n  backend: redis\n  url: redis://127.0.0.1:1/0\n  timeout: 10m\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:4: state.timeout:")
    assert "from 10ms to 1m" in str(raised.value)
