"""The composition root of `logpipe follow`: every part of the live agent built from the config, in one place
(Agent.from_config), and taken down in the reverse order when it stops. The CLI parses its options into a
FollowRequest and calls this; nothing else wires the parts together.

    telemetry (/metrics, /health) -> Docker client -> monitors (probes, resources) -> outbox (dispatcher and its
    sinks) -> state store -> incident book -> fleet sync -> follower -> pid file, trends, daily digest
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import docker
import structlog

from logpipe.agent.checkpoints import Checkpointer, EventOutput
from logpipe.agent.follower import Follower
from logpipe.agent.monitors import Monitors
from logpipe.agent.outlet import Alone, Outlet, Shared
from logpipe.agent.readers import Readers
from logpipe.agent.reload import Reloader
from logpipe.agent.signals import Signals
from logpipe.agent.stats import Counters, FollowStats
from logpipe.config.settings import Config
from logpipe.console.liveview import Snapshot
from logpipe.engine import Engine, RuleSet
from logpipe.engine.metrics.export import MetricSetCollector
from logpipe.engine.metrics.model import MetricSet
from logpipe.errors import ListenError
from logpipe.fleet.sync import FleetSync
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.incidents.views import shown
from logpipe.pipeline import settle_heap, silences_for
from logpipe.redact import Redactor
from logpipe.report.scheduler import DigestScheduler
from logpipe.report.trends import TrendRecorder
from logpipe.sinks.dispatcher import Dispatcher
from logpipe.sinks.wiring import build_dispatcher
from logpipe.sources.docker.reader import ReadOptions
from logpipe.state.directory import PID_FILE, STATE_FILE, write_pid_file
from logpipe.state.store import StateStore
from logpipe.telemetry import HealthCollector, Telemetry

log = structlog.get_logger("logpipe.follow")


@dataclass(frozen=True, slots=True)
class FollowRequest:
    """What `logpipe follow` was asked to do, its options parsed."""

    names: Sequence[str]
    labels: Sequence[str] = ()
    initial_since: int = 0  # where a container without a checkpoint starts (ns since the epoch)
    until_exit: bool = False
    direct: bool = True  # read json-file logs directly where readable (else the Engine API)
    events_out: BinaryIO | None = None
    metrics_address: str | None = None  # HOST:PORT for /metrics and /health
    config_path: Path | None = None  # what a reload reads again
    rule_paths: Sequence[Path] = ()
    template_dirs: Sequence[Path] = ()


class Agent:
    """The live agent: its follower, and what stops with it (in order) when the follower returns."""

    def __init__(self, follower: Follower, teardown: contextlib.ExitStack, signals: Signals | None = None) -> None:
        self.follower, self.teardown, self.signals = follower, teardown, signals

    @classmethod
    def from_config(
        cls,
        config: Config,
        ruleset: RuleSet,
        request: FollowRequest,
        show: Callable[[Notification], None],
        view: Callable[[Snapshot], None] | None = None,
        say: Callable[[str], None] = print,
    ) -> Agent:
        """Build every part and start the threads that run beside the follower; `show` prints a notification,
        `view` is the live view on a terminal, `say` tells the user where things are (stderr). Raises ConfigError
        (a probe host not found) and ListenError (--metrics-address unusable)."""
        taken = Signals()  # before any other thread: SIGTERM and SIGHUP go to its thread only
        telemetry = Telemetry()
        # the rules' log-derived metrics, served beside logpipe's own (also after a reload adds or changes some)
        engine = Engine(ruleset, metrics=MetricSet(ruleset.metrics))
        telemetry.registry.register(MetricSetCollector(lambda: engine.metrics))
        if request.metrics_address:
            host, port = _serve(telemetry, request.metrics_address)
            say(f"metrics and health on http://{host}:{port}/metrics")
        client = connect_docker(telemetry)
        monitors = Monitors(config, client, request.config_path)
        dispatcher = build_dispatcher(
            config,
            Redactor(),
            request.template_dirs,
            lambda name, outcome: telemetry.deliveries.labels(name, outcome).inc(),
        )
        store = (
            dispatcher.store
            if dispatcher is not None
            else StateStore(config.state_dir / STATE_FILE, config.outbox.max_pending)
        )
        if dispatcher is not None:
            dispatcher.start()
        sink_names = list(dispatcher.sinks) if dispatcher is not None else []
        telemetry.registry.register(HealthCollector(store.outbox.counts, sink_names, lambda: engine.disabled))
        telemetry.incidents = lambda: shown(store.progress.incidents(100))  # an exit like any other: redacted
        book = IncidentBook(ruleset, silences_for(config, store))
        fleet = _fleet_sync(config, engine, book, store, telemetry, say)
        book.restore(store.progress.open_incidents())  # as the last checkpoint left them: nothing re-paged or lost
        options = ReadOptions(
            request.initial_since, request.until_exit, direct=request.direct, labels=tuple(request.labels)
        )
        readers = Readers(client, request.names, options, store.progress.checkpoints, engine_memory(engine))
        output = EventOutput(request.events_out, store) if request.events_out is not None else None
        checkpoints = Checkpointer(store, output)
        telemetry.checkpoint_age.set_function(checkpoints.age)
        stats = FollowStats(telemetry, None if view is None else monitors.view(view))
        shared: Shared = fleet if fleet is not None else Alone(store)
        outlet = Outlet(show, dispatcher, shared)
        reload = Reloader(request.config_path, request.rule_paths, monitors, config)
        follower = Follower(readers, engine, book, checkpoints, stats, outlet, shared, reload)
        if fleet is not None:
            fleet.heartbeat = lambda: {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "containers": list(readers.names),
                "lag": stats.read_lag(),
                "at": time.time(),
            }
        pid_file = config.state_dir / PID_FILE
        write_pid_file(pid_file)  # for `logpipe reload`: 0600, through no link
        trends = _trend_recorder(config, engine, telemetry)
        digests = _digest_scheduler(config, dispatcher, engine, trends)
        # probes and resource readings, on their own threads, into the follower's queue
        monitors.start(readers.queue, readers.stopping, readers.names, telemetry, ruleset)
        teardown = contextlib.ExitStack()  # run last-in first-out: the digest and trends save, then the outbox
        teardown.callback(pid_file.unlink, missing_ok=True)
        teardown.callback(telemetry.close)
        teardown.callback(store.close)
        if fleet is not None:
            teardown.callback(fleet.backend.close)
        if dispatcher is not None:
            teardown.callback(dispatcher.stop)
            teardown.callback(dispatcher.drain, 10)
        teardown.callback(trends.stop)  # the last seconds' trends
        if digests is not None:
            teardown.callback(digests.stop)  # what this process counted towards the next digest
        return cls(follower, teardown, taken)

    def run(self) -> Counters:
        """Follow until stopped (SIGTERM, SIGINT, or --until-exit and every container read); the counters."""
        settle_heap()
        with self.teardown:
            return self.follower.run(self.signals)


def engine_memory(engine: Engine) -> Callable[[], int]:
    """How far back the engine's rules look now (a reload may change it)."""

    def memory() -> int:
        return engine.ruleset.memory()

    return memory


def _serve(telemetry: Telemetry, address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    try:
        return host or "127.0.0.1", telemetry.serve(host or "127.0.0.1", int(port))
    except (ValueError, OSError) as error:
        raise ListenError(f"cannot serve on {address}: {error}") from None


def connect_docker(telemetry: Telemetry) -> Any:
    """The Docker client. docker-py asks the daemon its API version on connecting, so a daemon down at start
    (stopped, restarting, socket not there yet) fails here: retry with capped backoff, /health degraded with the
    reason meanwhile, as the follower does when the daemon goes away later."""
    delay = 0.5
    while True:
        try:
            client = docker.from_env(timeout=30)
        except docker.errors.DockerException as error:
            telemetry.degraded("docker", f"Docker daemon unreachable at start, retrying: {error}")
            log.warning("docker unavailable", reason=str(error), retry_in=delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        telemetry.degraded("docker", None)
        return client


def _fleet_sync(
    config: Config,
    engine: Engine,
    book: IncidentBook,
    store: StateStore,
    telemetry: Telemetry,
    say: Callable[[str], None],
) -> FleetSync | None:
    """With `state: {backend: redis}`, the sync that shares windows, claims, counts and silences (logpipe/fleet/);
    None with the local backend (this host's state is the whole state)."""
    if config.state.backend == "local":
        return None
    from logpipe.fleet.connect import open_backend

    backend = open_backend(config.state, config.state_dir)
    say(f"state shared as instance {backend.instance} ({Redactor().text(config.state.url or '')})")
    return FleetSync(backend, engine, book, store, telemetry, config.state.claim_ttl)


def _trend_recorder(config: Config, engine: Engine, telemetry: Telemetry) -> TrendRecorder:
    """The thread that keeps the per-minute trends of the metrics for `logpipe report --state-dir` and the digest's
    report (report/trends.py), started."""
    from logpipe.report.schedule import DEFAULT_KEEP
    from logpipe.report.trends import TRENDS_FILE, TrendStore
    from logpipe.sources.probes.readinglog import READINGS_FILE

    def events_parsed() -> float:
        return sum(s.value for m in telemetry.events.collect() for s in m.samples if s.name.endswith("_total"))

    keep = config.report.keep if config.report is not None else DEFAULT_KEEP
    recorder = TrendRecorder(
        TrendStore(config.state_dir / TRENDS_FILE), lambda: engine.metrics, keep, events_parsed,
        config.state_dir / READINGS_FILE,
    )  # fmt: skip
    recorder.start()
    return recorder


def _digest_scheduler(
    config: Config, dispatcher: Dispatcher | None, engine: Engine, trends: TrendRecorder
) -> DigestScheduler | None:
    """The daily digest's thread (`report:` in the config), started; None without one."""
    if config.report is None or dispatcher is None:  # `report.channels` names channels: there is a dispatcher
        return None
    from logpipe.report.attachment import REPORTS_DIR
    from logpipe.report.digest import rule_title
    from logpipe.report.fromstate import follower_report

    def titles(rule: str) -> str:
        return rule_title(engine.ruleset, rule)

    host = socket.gethostname()
    scheduler = DigestScheduler(
        config.report, dispatcher, lambda: engine.metrics, titles, source=host,
        report=follower_report(trends, dispatcher.store, host, titles), reports_dir=config.state_dir / REPORTS_DIR,
    )  # fmt: skip
    scheduler.start()
    return scheduler
