"""Follow containers by name through the Docker Engine API, across restarts and recreations.

One reader thread per followed name puts ("line", name, RawLine) items on a queue: it attaches to the container
that has the name now, asks for its logs since a position (nanoseconds, through the low-level API: docker-py's
`logs(since=datetime)` floors to whole seconds), skips what was already handled (Docker's `since` is inclusive
and timestamps repeat), and when the stream ends asks the daemon why: running means a dropped connection
(reconnect from the position, with capped backoff), exited means wait for the next start, gone means wait for a
container of that name. Docker events have their own thread (sources/docker/events.py).
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from logpipe.event import Origin, RawLine
from logpipe.sources.docker.frames import DAEMON_ERROR, STREAMS, body_reader, frames, timestamped_lines
from logpipe.sources.docker.jsonfile import SKIPPED, json_file_lines, readable_log_file
from logpipe.sources.docker.ownthread import OwnThread
from logpipe.state.progress import Checkpoint
from logpipe.times import parse_docker_time

log = structlog.get_logger("logpipe.docker")
COMPOSE_SERVICE = "com.docker.compose.service"  # the label `docker compose` puts on a service's containers
# ("lines", name, [(RawLine, warm-up?)]) | ("events", name, [(Event, warm-up?, position)]) | ("ended", name, None)
Item = tuple[str, str, Any]
IDLE_REOPEN = 30.0  # seconds (LOGPIPE_IDLE_REOPEN)


def find_container(client: Any, key: str) -> dict[str, Any] | None:
    """The container a followed name stands for now (inspected), or None: the container of that name (or id),
    else the newest container of the Compose service of that name, so `logpipe follow clipforge-api` finds
    `clipforge-clipforge-api-1` and, after `docker compose up --force-recreate`, its successor. Daemon errors
    propagate (DockerException, OSError)."""
    import docker.errors

    try:
        found: dict[str, Any] = client.api.inspect_container(key)
        return found
    except docker.errors.NotFound:
        pass
    service = client.api.containers(all=True, filters={"label": f"{COMPOSE_SERVICE}={key}"})
    for candidate in sorted(service, key=lambda container: container.get("Created", 0), reverse=True):
        try:
            return client.api.inspect_container(candidate["Id"])  # type: ignore[no-any-return]
        except docker.errors.NotFound:  # removed since the listing
            continue
    return None


def labelled_containers(client: Any, labels: Iterable[str]) -> list[str]:
    """The names of the containers (running or not) that carry every one of `labels` (KEY or KEY=VALUE)."""
    found = client.api.containers(all=True, filters={"label": list(labels)})
    return sorted(container["Names"][0].lstrip("/") for container in found if container.get("Names"))


def has_labels(attributes: dict[str, str], labels: Iterable[str]) -> bool:
    """Whether a Docker event's actor attributes (which carry the container's labels) match every selector."""
    for label in labels:
        key, equals, value = label.partition("=")
        if key not in attributes or (equals and attributes[key] != value):
            return False
    return True


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How `logpipe follow` reads the containers' logs and the Docker events."""

    initial_since: int = 0  # where a name without a checkpoint starts (ns since the epoch)
    until_exit: bool = False  # stop once every followed container has exited and been read
    host: str = ""  # the host name in origins
    lookback: int = 0  # ns re-read before a checkpoint as warm-up, to rebuild the rules' windows (their memory)
    direct: bool = True  # read the json-file log directly when it is readable here (else the Engine API)
    labels: tuple[str, ...] = ()  # --label selectors: containers carrying them are followed too


class ContainerReader(OwnThread):
    """Reads one followed name's log, container after container, into the queue."""

    def __init__(
        self,
        client: Any,
        name: str,
        out: queue.Queue[Item],
        stop: threading.Event,
        positions: dict[str, Checkpoint],
        options: ReadOptions,
    ) -> None:
        super().__init__(f"docker-{name}")
        # read the json-file log directly when it is readable here (else, and with direct=False: the Engine API)
        self.direct = options.direct
        self.transport = ""  # "json-file" or "api": how the current read gets its lines
        # after a restart, first re-read `lookback` ns before the checkpoint as warm-up lines, so the engine's
        # windows and throttles are rebuilt (they lived in memory); only for the container the checkpoint is of
        self.lookback = options.lookback if positions else 0
        self.client, self.container, self.out, self.stopping = client, name, out, stop
        self.positions = dict(positions)  # stream -> how far it was read (resume point)
        self.initial_since, self.until_exit, self.host = options.initial_since, options.until_exit, options.host
        self.reconnects: collections.Counter[str] = collections.Counter()  # by reason: dropped, idle, failed
        self.skipped: collections.Counter[str] = collections.Counter()  # inputs not passed on as lines, by reason
        # an Engine API stream silent this long is reopened from the position: a stalled stream (the daemon's
        # follower stuck, as at json-file rotations in moby#37646) and a quiet container look alike from here
        self.idle_reopen = float(os.environ.get("LOGPIPE_IDLE_REOPEN", IDLE_REOPEN))
        self.problem: str | None = None  # why following is degraded (the daemon unreachable), for /health
        self.state = "starting"  # what it is doing, for the live view
        self._origins: dict[tuple[str, str], Origin] = {}
        self._at_time: dict[str, tuple[int, int]] = {}  # per stream: (timestamp, lines read at it) in this read
        # set by the events watcher when a container of this name starts: a short-lived container (a crash loop,
        # a recreation) is attached at once rather than at the next poll, which could come after its removal
        self.wake = threading.Event()

    def run(self) -> None:
        backoff = 0.25
        attached: str | None = None
        told_waiting = False
        while not self.stopping.is_set():
            info = self._inspect()
            if info is None:
                self.state = "docker unavailable" if self.problem else "no such container yet"
                if not self.problem and not told_waiting:
                    log.info("no container of that name yet; waiting for it", container=self.container)
                    told_waiting = True
                self._pause(0.5)  # no container of that name yet: wait for it (or for its start event)
                continue
            told_waiting = False
            container_id, running = info["Id"], info["State"]["Running"]
            if container_id != attached:
                if attached is not None or any(cp.container_id != container_id for cp in self.positions.values()):
                    self.positions = {}  # a new container under the name: read it from its beginning
                    self.initial_since = 0
                attached = container_id
            started = time.monotonic()
            self.state = "following" if running else "reading an exited container"  # (and how, once reading)
            ended = self._read(info, follow=running)
            if self.stopping.is_set():
                return
            after = self._inspect()
            if after is None:
                continue
            if after["State"]["Running"] and after["Id"] == container_id:
                self.reconnects[ended] += 1  # dropped while running: reconnect, but never in a hot loop
                if ended == "idle":
                    log.info("log stream silent; reopened in case it stalled", container=self.container)
                else:
                    log.warning("log stream ended while the container runs; reconnecting", container=self.container)
                if time.monotonic() - started < 1.0:
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.25
            state = after["State"]
            never_started = state.get("Status") == "created"  # `docker create` / compose before its start
            if self.until_exit and not never_started and not state.get("Restarting") and after["Id"] == container_id:
                self.out.put(("ended", self.container, None))
                return
            self.state = "exited, waiting for a start"
            self._wait_for_change(after)

    def _pause(self, seconds: float) -> None:
        self.wake.wait(seconds)
        self.wake.clear()

    def _inspect(self) -> dict[str, Any] | None:
        import docker.errors

        try:
            info = find_container(self.client, self.container)
            if info is None:
                self.problem = None
                return None
        except (docker.errors.DockerException, OSError) as error:
            self.problem = f"docker unavailable: {error}"
            log.warning("docker unavailable; retrying", container=self.container, error=str(error))
            self.stopping.wait(1.0)
            return None
        self.problem = None
        return info

    def _wait_for_change(self, seen: dict[str, Any]) -> None:
        """Until the container starts again (or another takes its name)."""
        while not self.stopping.is_set():
            self._pause(0.25)
            now = self._inspect()
            if (
                now is None
                or now["Id"] != seen["Id"]
                or now["State"]["Running"]
                or (now["State"].get("StartedAt") != seen["State"].get("StartedAt"))
            ):
                return

    def _read(self, info: dict[str, Any], follow: bool) -> str:
        """Read from the position to the end (or, following, until the stream ends); how it ended: "dropped"
        (the stream ended), "idle" (silent for idle_reopen seconds), "failed" (an error)."""
        import docker.errors
        import requests
        import urllib3.exceptions

        container_id = info["Id"]
        since = min((cp.time for cp in self.positions.values()), default=self.initial_since)
        if self.lookback:
            since = max(0, since - self.lookback)
        self._at_time = {}  # `since` is inclusive: count the resume point's timestamp again from zero
        log_file = readable_log_file(info) if self.direct else None
        try:
            self.transport = "json-file" if log_file is not None else "api"
            if follow:
                self.state = f"following ({self.transport})"
            log.info("reading", container=self.container, id=container_id[:12], via=self.transport, follow=follow)
            if log_file is not None:
                lines = json_file_lines(log_file, since, follow, lambda: self._running(container_id), self.stopping)
                self._forward(container_id, lines)
                return "dropped"
            params = {
                "stdout": 1,
                "stderr": 1,
                "timestamps": 1,
                "follow": int(follow),
                "since": f"{since // 10**9}.{since % 10**9:09d}",
            }
            api = self.client.api
            response = api._get(
                api._url("/containers/{0}/logs", container_id),
                params=params,
                stream=True,
                timeout=(30, self.idle_reopen if follow else None),
            )
            try:
                api._raise_for_status(response)
                tty = info["Config"].get("Tty", False)
                stamped = timestamped_lines(frames(body_reader(response), tty))
                self._forward(container_id, _api_lines(stamped, self.container, _rotates(info)))
            finally:
                response.close()  # its connection was read past urllib3: never hand it back to the pool
            return "dropped"
        except (urllib3.exceptions.ReadTimeoutError, requests.Timeout, TimeoutError):  # TimeoutError: the socket's
            return "idle"
        except (
            docker.errors.DockerException,
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
        ) as error:
            log.warning("log stream failed", container=self.container, error=str(error))
            return "failed"
        finally:
            # how far this read got, per stream, is where the next read of this container resumes
            for stream, (time_ns, seen) in self._at_time.items():
                self.positions[stream] = Checkpoint(container_id, time_ns, seen)

    def _running(self, container_id: str) -> bool:
        info = self._inspect()
        return info is not None and info["Id"] == container_id and bool(info["State"]["Running"])

    def _forward(self, container_id: str, lines: Iterable[tuple[int, int, bytes, bool]]) -> None:
        batch: list[tuple[RawLine, bool]] = []  # (line, warm-up?)
        warmup = self.lookback > 0
        self.lookback = 0  # warm-up happens once, on the first read after a start
        stopping, at_times, positions = self.stopping.is_set, self._at_time, self.positions
        streams: dict[int, tuple[str, Origin]] = {}  # stream id -> (name, origin), looked up once per call
        for stream_id, docker_time, text, partial in lines:
            if stopping():
                return
            if stream_id <= 0:
                if stream_id == SKIPPED:  # an input that is not a line to pass on: counted, by reason
                    self.skipped[text.decode()] += 1
                elif batch:  # the end of one read: hand over what it held, as one item
                    self.out.put(("lines", self.container, batch))
                    batch = []
                continue
            known = streams.get(stream_id)
            if known is None:
                name = STREAMS.get(stream_id, "stdout")
                known = streams[stream_id] = (name, self._origin(container_id, name))
            stream, origin = known
            # skip what was handled: before the resume point, or among the first `seen` lines at its timestamp
            at_time = at_times.get(stream)
            count = at_time[1] + 1 if at_time is not None and at_time[0] == docker_time else 1
            at_times[stream] = (docker_time, count)
            resume = positions.get(stream)
            handled = resume is not None and (
                docker_time < resume.time or (docker_time == resume.time and count <= resume.seen)
            )
            if handled and not warmup:
                continue
            # tuple.__new__: a NamedTuple's own __new__ is Python code (namedtuple's), twice the cost per line
            batch.append((tuple.__new__(RawLine, (text, origin, docker_time, partial)), handled))
            if len(batch) >= 2048:
                self.out.put(("lines", self.container, batch))
                batch = []
        if batch:
            self.out.put(("lines", self.container, batch))

    def _origin(self, container_id: str, stream: str) -> Origin:
        origin = self._origins.get((container_id, stream))
        if origin is None:
            origin = self._origins[(container_id, stream)] = Origin(
                "docker", self.container, stream, container_id, self.host
            )
        return origin


def _rotates(info: dict[str, Any]) -> bool:
    """Whether the daemon rotates this container's log: `local` always does (20 MB by default), `json-file` only
    with a max-size (the daemon writes its own defaults into each container's config when it creates it)."""
    config = info.get("HostConfig", {}).get("LogConfig") or {}
    options = config.get("Config") or {}
    kind = config.get("Type")
    return kind == "local" or (kind == "json-file" and options.get("max-size", "-1") not in ("", "-1"))


def _api_lines(
    lines: Iterable[tuple[int, bytes, bool]], container: str, rotates: bool = False
) -> Iterator[tuple[int, int, bytes, bool]]:
    """The Engine API's "<timestamp> <text>" lines as (stream id, Docker time, text, partial), the json-file
    reader's shape. The daemon's in-band errors are logged, not passed on as log lines.

    Docker 20.10 re-sends the last line before each rotation to a following client (seen here: over the API, a
    log rotated at 10k repeated the line before each rotation, 3 in 1,000; `docker logs -f` printed 1,005 lines
    for 1,000 across eight rotations). So for a rotating log a complete line equal to the one before it on its
    stream, nanosecond timestamp included, is that re-send and is dropped (logged): the daemon stamps each line
    with its own clock, and two lines do not get the same nanosecond. A log that does not rotate keeps every
    line, repeats included (a log written with coarser stamps can hold identical lines at one time)."""
    previous: dict[int, tuple[int, bytes]] = {}
    for stream_id, line, partial in lines:
        if stream_id == 0:
            yield 0, 0, b"", False
            continue
        if stream_id == DAEMON_ERROR:
            log.error(
                "docker daemon error in the log stream", container=container, error=line.decode("utf-8", "replace")
            )
            continue
        stamp, _, text = line.partition(b" ")
        docker_time = parse_docker_time(stamp.decode("ascii", "replace"))
        if docker_time is None:
            continue
        if rotates and not partial:
            if previous.get(stream_id) == (docker_time, text):
                log.info("dropped a line the daemon re-sent at a log rotation", container=container, time=docker_time)
                yield SKIPPED, docker_time, b"re-sent at a log rotation", False
                continue
            previous[stream_id] = (docker_time, text)
        yield stream_id, docker_time, text, partial
