"""Which fleet backend this instance uses, from the config's `state:`, and the name it goes by."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from logpipe.config.settings import StateConfig
from logpipe.fleet.backend import FleetBackend, LocalBackend


def instance_name(state_dir: Path) -> str:
    """This instance's default name: the host and its state directory (two followers on one host differ)."""
    digest = hashlib.blake2b(str(state_dir.resolve()).encode(), digest_size=3).hexdigest()
    return f"{socket.gethostname()}-{digest}"


def open_backend(config: StateConfig, state_dir: Path) -> FleetBackend:
    """The backend the config names. Redis is not contacted here: one unreachable at start is retried at each
    tick, never a crash."""
    instance = config.instance or instance_name(state_dir)
    if config.backend == "local" or config.url is None:
        return LocalBackend(instance)
    from logpipe.fleet.redisbackend import RedisBackend  # the redis client, only for a fleet

    return RedisBackend(config.url, config.prefix, instance, config.claim_ttl // 1_000_000, config.timeout / 1e9)
