"""`logpipe fleet`: the instances sharing state on Redis, from their heartbeats (host, containers, lag, last seen)."""

from __future__ import annotations

import time
from pathlib import Path

import click
import orjson

from logpipe.cli.options import config_or_fail, output_option
from logpipe.fleet.backend import BackendUnreachable
from logpipe.fleet.sync import RENEW_EVERY

GONE_AFTER = 3 * RENEW_EVERY  # seconds without a heartbeat: the instance stopped (its buckets age out)


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="LOGPIPE_CONFIG",
    help="logpipe.yml with `state: {backend: redis, url: ...}` (env: LOGPIPE_CONFIG).",
)
@output_option
def fleet(config_path: Path | None, output: str) -> None:
    """List the logpipe instances sharing this config's Redis: host, containers followed, lag, last heartbeat.
    Exit code 1 when Redis cannot be reached or the config's state backend is local."""
    from logpipe.fleet.connect import open_backend
    from logpipe.fleet.redisbackend import RedisBackend

    config = config_or_fail(config_path)
    backend = open_backend(config.state, config.state_dir)
    if not isinstance(backend, RedisBackend):
        raise click.ClickException("the state backend is local: this instance is the whole fleet")
    try:
        members = backend.members()
    except BackendUnreachable as error:
        raise click.ClickException(str(error)) from None
    finally:
        backend.close()
    now = time.time()
    if output == "json":
        for name, beat in members.items():
            age = now - float(beat.get("at", 0))
            record = {"instance": name, **beat, "seen_seconds_ago": round(age, 1), "gone": age >= GONE_AFTER}
            click.echo(orjson.dumps(record).decode())
        return
    click.echo(f"{'instance':<28} {'host':<20} {'lag':>8} {'last seen':>10}  containers")
    for name, beat in members.items():
        age = now - float(beat.get("at", 0))
        seen = f"{age:.0f} s ago" if age < GONE_AFTER else f"gone ({age:.0f} s)"
        lag = beat.get("lag")
        lag_text = "-" if lag is None else f"{float(lag):.1f} s"
        containers = ", ".join(str(c) for c in beat.get("containers") or [])
        click.echo(f"{name:<28} {beat.get('host', '')!s:<20} {lag_text:>8} {seen:>10}  {containers}")
