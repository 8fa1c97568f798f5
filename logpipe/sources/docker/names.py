"""What to say about a name `logpipe follow` was given that no container has: most often a typo, so the names it
is closest to among the containers and Compose services there are."""

from __future__ import annotations

import difflib
from typing import Any

COMPOSE_SERVICE = "com.docker.compose.service"  # the label `docker compose` puts on a service's containers


def missing_container(client: Any, name: str) -> str:
    """What to tell about a followed name no container has: the names it is closest to among the containers and
    Compose services there are, since it is most often a typo."""
    import docker.errors

    try:
        known = client.api.containers(all=True)
    except (docker.errors.DockerException, OSError):
        known = []
    names = {container["Names"][0].lstrip("/") for container in known if container.get("Names")}
    names |= {
        container["Labels"][COMPOSE_SERVICE]
        for container in known
        if COMPOSE_SERVICE in (container.get("Labels") or {})
    }
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"no container named {name}{hint}"
