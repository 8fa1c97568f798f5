"""`logpipe fleet -o json` against a real redis-server: one object per instance, as a script reads it."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import redis
from click.testing import CliRunner

from logpipe.cli import main
from tests.integration.redisserver import RedisServer


def test_fleet_lists_each_instance_as_json(tmp_path: Path, redis_server: RedisServer) -> None:
    prefix = "fleet-cli-json:"
    beat = {"host": "web-1", "pid": 42, "containers": ["clipforge-api"], "lag": 0.4, "at": time.time()}
    client = redis.Redis.from_url(redis_server.url)
    client.hset(f"{prefix}members", "web-1:/var/lib/logpipe", orjson.dumps(beat).decode())
    client.close()
    config = tmp_path / "logpipe.yml"
    config.write_text(f"state_dir: state\nstate: {{backend: redis, url: '{redis_server.url}', prefix: '{prefix}'}}\n")
    result = CliRunner().invoke(main, ["fleet", "--config", str(config), "-o", "json"])
    assert result.exit_code == 0, result.output
    (record,) = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert {k: record[k] for k in ("instance", "host", "containers", "lag", "gone")} == {
        "instance": "web-1:/var/lib/logpipe",
        "host": "web-1",
        "containers": ["clipforge-api"],
        "lag": 0.4,
        "gone": False,
    }
    table = CliRunner().invoke(main, ["fleet", "--config", str(config)])
    assert table.stdout.splitlines()[1].split()[:2] == ["web-1:/var/lib/logpipe", "web-1"]
