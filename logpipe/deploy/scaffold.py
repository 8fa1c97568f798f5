"""`logpipe init`: a commented logpipe.yml and a Compose service for the containers running on this host.

Text templates rather than yaml.dump: the comments are the point (they say what each key does and what the
agent needs from the host).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "logpipe.yml"
COMPOSE_FILE = "compose.logpipe.yml"
DOCKER_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True, slots=True)
class Running:
    container: str
    project: str | None  # its Compose project, when it has one
    service: str | None


def running_services(client: Any) -> list[Running]:
    found = []
    for summary in client.api.containers():
        labels = summary.get("Labels") or {}
        found.append(
            Running(
                summary["Names"][0].lstrip("/"),
                labels.get("com.docker.compose.project"),
                labels.get("com.docker.compose.service"),
            )
        )
    return sorted(found, key=lambda r: r.container)


def follow_arguments(running: list[Running]) -> list[str]:
    """One Compose project: by its label (its containers come and go with deploys, new services included).
    Otherwise each container by name, Compose ones by service name (followed across recreations too)."""
    projects = {r.project for r in running if r.project}
    if len(projects) == 1 and all(r.project for r in running):
        return ["--label", f"com.docker.compose.project={projects.pop()}"]
    # nothing running yet: the service logpipe is built for, by its Compose service name
    return sorted({r.service or r.container for r in running}) or ["clipforge-api"]


def config_text(running: list[Running]) -> str:
    seen = "\n".join(
        f"#   {r.container}" + (f" (Compose {r.project}/{r.service})" if r.project else "") for r in running
    )
    return f"""\
# logpipe.yml, written by `logpipe init`. Check it with `logpipe doctor --config logpipe.yml`.
# Containers running when it was written:
{seen or "#   (none)"}
# ${{VAR}} and ${{VAR:-default}} are read from the environment: keep secrets there, not here.

# checkpoints, windows, incidents and the outbox (SQLite); must be writable and survive restarts
state_dir: /var/lib/logpipe

# rule sources, in order; without this key, the ClipForge pack shipped with logpipe alone. Your rules and your
# overrides of the pack's settings (enabled: false, count, window, thresholds...) go in files of a directory on
# top of the pack (README: Write your own rule):
# rules:
#   - pack: clipforge
#   - rules.d/
# templates: [templates/]              # notification templates searched before the defaults

sentry:
  dsn: ${{SENTRY_DSN:-}}                # https://KEY@HOST/PROJECT_ID; empty: no Sentry
  environment: production

channels: {{}}                           # where alerts go besides Sentry, e.g.:
#   oncall-slack: {{url: "${{SLACK_WEBHOOK_URL}}"}}
#   oncall-email: {{url: "mailtos://user:${{SMTP_PASSWORD}}@smtp.example.com?to=oncall@example.com"}}
#   ops-webhook: {{url: "https://ops.example.com/hooks/logpipe", kind: webhook}}

# routes:                               # by severity, for rules without `actions`
#   critical: [sentry, oncall-slack, oncall-email]
#   warning: [sentry, oncall-slack]
#   info: [sentry]
"""


def compose_text(running: list[Running], docker_gid: int) -> str:
    command = ", ".join(
        f'"{a}"' for a in ["follow", "--metrics-address", "0.0.0.0:9108", "--no-view", *follow_arguments(running)]
    )
    return f"""\
# The logpipe agent as a Compose service, written by `logpipe init`: paste `logpipe` under `services:` in
# docker-compose.yml and `logpipe-state` under `volumes:` (or run: docker compose -f {COMPOSE_FILE} up -d).
services:
  logpipe:
    image: logpipe:latest             # docker build -t logpipe:latest . (logpipe's Dockerfile)
    command: [{command}]
    restart: unless-stopped
    read_only: true                   # the agent writes only to its state volume (and /tmp, in memory)
    tmpfs: [/tmp]
    group_add: ["{docker_gid}"]           # the group owning {DOCKER_SOCKET} on this host: the agent is not root
    environment:
      LOGPIPE_CONFIG: /etc/logpipe/logpipe.yml
      SENTRY_DSN: ${{SENTRY_DSN:-}}       # secrets from the environment (or an .env file), never the image
      SLACK_WEBHOOK_URL: ${{SLACK_WEBHOOK_URL:-}}
    volumes:
      - {DOCKER_SOCKET}:{DOCKER_SOCKET}:ro
      # json-file logs, read directly when permitted (root:root 0640: add "0" to group_add for that), else
      # through the Engine API
      - /var/lib/docker/containers:/var/lib/docker/containers:ro
      - logpipe-state:/var/lib/logpipe
      - ./{CONFIG_FILE}:/etc/logpipe/logpipe.yml:ro
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/health')"]
      interval: 30s

volumes:
  logpipe-state:
"""


def write_starter_files(directory: Path, running: list[Running]) -> list[Path]:
    """Both files, or neither: FileExistsError (with its filename) when one is already there."""
    targets = [directory / CONFIG_FILE, directory / COMPOSE_FILE]
    for target in targets:
        if target.exists():
            raise FileExistsError(0, "exists", str(target))
    directory.mkdir(parents=True, exist_ok=True)
    docker_gid = os.stat(DOCKER_SOCKET).st_gid if os.path.exists(DOCKER_SOCKET) else 0
    for target, text in zip(targets, [config_text(running), compose_text(running, docker_gid)], strict=True):
        with target.open("x") as out:  # "x": a file created meanwhile is not overwritten either
            out.write(text)
    return targets
