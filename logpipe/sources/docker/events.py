"""Docker events of the followed containers (start, die with exit code, oom, kill, restart, health_status) as log
events that rules can match (logger "docker", fields docker.*), with a checkpoint of their own and a
reconciliation with the containers' state for what the daemon's 256-event buffer no longer holds.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import structlog

from logpipe.event import Event, Origin
from logpipe.sources.docker.ownthread import OwnThread
from logpipe.sources.docker.reader import (
    COMPOSE_SERVICE,
    Item,
    ReadOptions,
    find_container,
    has_labels,
    labelled_containers,
)
from logpipe.state.progress import Checkpoint
from logpipe.times import parse_iso8601

log = structlog.get_logger("logpipe.docker")
EVENTS = "*events*"  # the checkpoint name of the Docker events stream (no container name can hold a '*')
_EVENT_ACTIONS = {"start", "die", "oom", "restart", "kill", "stop", "health_status"}
_EVENT_LEVELS = {"die": "error", "oom": "critical", "kill": "warning", "health_status": "warning"}


class EventWatcher(OwnThread):
    """Docker events of the followed containers, as log events (logger "docker", fields docker.*).

    Each connection first replays what the daemon kept since the checkpoint, then compares each followed
    container's state with the events seen: the daemon keeps only its last 256 events, so a start or a death it
    no longer has is made up from the container's state (fields docker.reconciled), then it follows live.
    Events before the checkpoint, within `lookback`, are handed over as warm-up (rule state only)."""

    def __init__(
        self,
        client: Any,
        names: set[str],
        out: queue.Queue[Item],
        stop: threading.Event,
        options: ReadOptions,
        position: Checkpoint | None = None,
        on_start: Callable[[str], None] = lambda name: None,
        on_discovery: Callable[[str], None] = lambda name: None,
    ) -> None:
        """`options.initial_since`: where to start without a checkpoint (`position`); `options.lookback`: how far
        before the checkpoint events are replayed as warm-up."""
        super().__init__("docker-events")
        self.on_start = on_start  # told the followed name of each container start, as it is read
        # `--label` selectors: a container carrying them that shows up (created, started) is followed from then
        # on: its name joins `names` here, at once, so its own events are not missed, and on_discovery is told
        self.labels, self.on_discovery = tuple(options.labels), on_discovery
        self.client, self.names, self.out, self.stopping = client, names, out, stop
        # the last event handed over: (Docker's timeNano, events read at exactly that time)
        self.position = (position.time, position.seen) if position is not None else None
        self.since = position.time if position is not None else options.initial_since  # ns
        self.lookback = options.lookback if position is not None else 0
        self.floor = self.since  # where following resumed: reconciling makes up nothing older
        # per (name, action): the time of the latest start / die known, so reconciling never repeats one
        self._known: dict[tuple[str, str], int] = {}
        self.problem: str | None = None  # why events are not followed (the daemon unreachable), for /health
        self.caught_up = threading.Event()  # set once the first replay and reconciliation are handed over
        self.lifecycle = Lifecycle()  # tells a deploy (Docker stopped it) from a crash, across the events

    def run(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                until = time.time_ns()
                self._forward(self._events(self.since - self.lookback, until))
                if self.stopping.is_set():
                    return  # the replay was cut short: reconciling now would make up what it did not reach
                self.lookback = 0
                if self.labels:  # containers that carried the labels before this connection: follow them too
                    for name in labelled_containers(self.client, self.labels):
                        self._discovered(name)
                self._reconcile()
                self.caught_up.set()
                live = self._events(until, None)
                log.info("following docker events", labels=list(self.labels))  # once per connection
                self.problem, backoff = None, 1.0
                self._forward(live)
            except Exception as error:
                self.problem = f"docker events unavailable: {error}"
                log.warning("docker events stream failed; retrying", error=str(error))
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _events(self, since: int, until: int | None) -> Any:
        return self.client.events(
            decode=True,
            since=_api_time(max(since, 10**9)),
            until=None if until is None else _api_time(until),
            filters={"type": "container"},
        )

    def _forward(self, messages: Iterable[dict[str, Any]]) -> None:
        at_time: tuple[int, int] | None = None  # (time, events read at it) in this read: `since` is inclusive
        for message in messages:
            if self.stopping.is_set():
                getattr(messages, "close", lambda: None)()
                return
            time_ns = _event_time(message)
            count = at_time[1] + 1 if at_time is not None and at_time[0] == time_ns else 1
            at_time = (time_ns, count)
            handled = self.position is not None and (
                time_ns < self.position[0] or (time_ns == self.position[0] and count <= self.position[1])
            )
            if self.labels:
                self._discover(message)
            event = docker_event(message, self.names)
            if event is None:
                continue
            event = self.lifecycle.enrich(event)
            self._note(event)
            if handled and self.position is not None and time_ns < self.position[0] - self.lookback:
                continue
            if not handled:
                self.position = (time_ns, count)
                self.since = time_ns
                if event.fields["docker"]["action"] == "start":
                    self.on_start(event.origin.name)
            self.out.put(("events", event.origin.name, [(event, handled, (time_ns, count))]))

    def _discover(self, message: dict[str, Any]) -> None:
        attributes = (message.get("Actor") or {}).get("Attributes") or {}
        name = attributes.get("name", "")
        if name and has_labels(attributes, self.labels):
            self._discovered(name)

    def _discovered(self, name: str) -> None:
        if name not in self.names:
            self.names.add(name)
            self.on_discovery(name)

    def _note(self, event: Event) -> None:
        action = event.fields["docker"]["action"]
        if action in ("start", "die"):
            key = (event.origin.name, action)
            self._known[key] = max(self._known.get(key, 0), event.time)

    def _reconcile(self) -> None:
        """Make up the starts and deaths that happened since the checkpoint but are no longer in the daemon's
        event buffer, from each followed container's state."""
        import docker.errors

        made = []
        for name in sorted(self.names):
            try:
                info = find_container(self.client, name)
            except docker.errors.NotFound:
                info = None
            if info is None:
                continue
            state = info["State"]
            for action, stamp in (("start", state.get("StartedAt")), ("die", state.get("FinishedAt"))):
                time_ns = parse_iso8601(stamp or "")
                # events follow the state change by milliseconds: a known event within a second is this one
                if time_ns is None or time_ns <= self.floor or time_ns <= self._known.get((name, action), 0) + 10**9:
                    continue
                if action == "die" and state["Running"] and time_ns > (parse_iso8601(state["StartedAt"]) or 0):
                    continue  # not a death: still running (a FinishedAt after StartedAt is only possible stopped)
                actions = ["die", "oom"] if action == "die" and state.get("OOMKilled") else [action]
                for each in actions:
                    made.append(_message_from_state(info, name, each, time_ns))
        for message in sorted(made, key=_event_time):
            event = docker_event(message, self.names)
            if event is None:
                continue
            event = self.lifecycle.enrich(event)
            self._note(event)
            log.warning(
                "docker event missed by the events stream; made up from the container state",
                container=event.origin.name,
                action=message["Action"],
            )
            time_ns = event.time
            if self.position is None or time_ns > self.position[0]:
                self.position, self.since = (time_ns, 0), time_ns
            self.out.put(("events", event.origin.name, [(event, False, self.position)]))


class Lifecycle:
    """Per followed container, what its events mean together: a `die` after Docker sent SIGTERM (`docker stop`,
    `docker restart`, a Compose recreate: a `kill` event with signal 15 first) is expected, and the next `start`
    is a restart by Docker with the time it was down; a `die` nobody asked for (no stop, an OOM kill, a crash)
    is not, and the `start` after it is an unexpected restart (what a crash loop is made of). The fields added:
    docker.expected (on die and start), docker.restart = docker | crash (on a start after a death), and
    docker.down_ms."""

    STOP_WINDOW = 120_000_000_000  # a SIGTERM this long before the death asked for it (Docker's stop timeout)

    def __init__(self) -> None:
        self._stop_asked: dict[str, int] = {}  # name -> time of the last SIGTERM Docker sent
        self._oom: dict[str, int] = {}
        self._death: dict[str, tuple[int, bool]] = {}  # name -> (time, expected) of the last death

    def enrich(self, event: Event) -> Event:
        fields = event.fields["docker"]
        name, action, now = event.origin.name, fields["action"], event.time
        extra: dict[str, Any] = {}
        text = event.message
        level = event.level
        if action == "kill":
            if str(fields.get("signal", "")) in ("15", "SIGTERM", "TERM"):
                self._stop_asked[name] = now
        elif action == "oom":
            self._oom[name] = now
        elif action == "die":
            asked = self._stop_asked.pop(name, None)
            oom = self._oom.pop(name, None)
            expected = asked is not None and now - asked <= self.STOP_WINDOW and oom is None
            self._death[name] = (now, expected)
            extra["expected"] = expected
            if expected:
                text += " after Docker stopped it (docker stop / restart / recreate)"
                level = "info"
        elif action == "start" and name in self._death:
            died, expected = self._death.pop(name)
            down = max(0, now - died)
            extra.update(expected=expected, restart="docker" if expected else "crash", down_ms=down // 1_000_000)
            text = (
                f"container {name} restarted by Docker, down {down / 1e9:.1f} s"
                if expected
                else f"container {name} started again after a death nobody asked for, down {down / 1e9:.1f} s"
            )
        if not extra:
            return event
        return event._replace(message=text, level=level, fields={"docker": {**fields, **extra}})


def _api_time(time_ns: int) -> str:
    return f"{time_ns // 10**9}.{time_ns % 10**9:09d}"


def _event_time(message: dict[str, Any]) -> int:
    return int(message.get("timeNano") or message.get("time", 0) * 1_000_000_000)


def _message_from_state(info: dict[str, Any], name: str, action: str, time_ns: int) -> dict[str, Any]:
    """An event message as the daemon would have sent it, from `docker inspect` output."""
    attributes = {"name": name, "image": info["Config"].get("Image", ""), "reconciled": "true"}
    if action == "die":
        attributes["exitCode"] = str(info["State"].get("ExitCode", 0))
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": info["Id"], "Attributes": attributes},
        "id": info["Id"],
        "time": time_ns // 10**9,
        "timeNano": time_ns,
    }


def docker_event(message: dict[str, Any], names: set[str]) -> Event | None:
    attributes = (message.get("Actor") or {}).get("Attributes") or {}
    name = attributes.get("name", "")
    action = str(message.get("Action") or message.get("status") or "")
    health = None
    if action.startswith("health_status"):
        action, _, health = action.partition(": ")
    if action not in _EVENT_ACTIONS:
        return None
    if name not in names:  # followed as a Compose service, or by id (full or short): keep the followed key
        container_id = str(message.get("id", ""))
        service = attributes.get(COMPOSE_SERVICE, "")
        name = service if service in names else ""
        name = name or next((key for key in names if len(key) >= 12 and container_id.startswith(key)), "")
        if not name:
            return None
    fields: dict[str, Any] = {
        "action": action,
        "container": name,
        "id": message.get("id", "")[:12],
        "image": attributes.get("image", ""),
    }
    text = f"container {name} {action}"
    if action == "die":
        exit_code = int(attributes.get("exitCode", 0) or 0)
        fields["exitCode"] = exit_code
        text += f" (exit code {exit_code})"
    if action == "kill" and attributes.get("signal"):
        fields["signal"] = str(attributes["signal"])
        text += f" (signal {fields['signal']})"
    if health:
        fields["health"] = health
        text += f": {health}"
    if attributes.get("reconciled"):
        fields["reconciled"] = True  # the daemon no longer had this event: made up from the container's state
        text += " (from the container state; the event itself was missed)"
    level = "info" if action == "die" and fields.get("exitCode") == 0 else _EVENT_LEVELS.get(action, "info")
    if health == "healthy":
        level = "info"
    time_ns = _event_time(message)
    origin = Origin("docker-events", name, "", fields["id"])
    return Event(
        time_ns,
        level,
        text,
        "docker",
        {"docker": fields},
        origin,
        orjson.dumps(message).decode(),
        "docker",
        time_ns,
        None,
    )
