"""`logpipe follow NAMES`: the live agent on Docker containers, until stopped; `logpipe reload`: ask the running
one to re-read its rules, templates and config."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from logpipe.cli.options import (
    check_actions_or_fail,
    config_option,
    config_or_fail,
    events_out_option,
    format_option,
    load_or_fail,
    rule_dirs,
    rules_option,
)
from logpipe.cli.root import version
from logpipe.config import Config, load_config
from logpipe.engine import Engine, RuleLoadError, RuleSet, load_rules
from logpipe.errors import ConfigError
from logpipe.logconfig import configure_logging
from logpipe.outputs import alert_printer, build_dispatcher, router_for
from logpipe.pipeline import settle_heap, silences_for
from logpipe.redact import Redactor
from logpipe.sinks.console import ConsoleSink
from logpipe.sinks.jsonl import JsonLinesSink
from logpipe.statedir import PID_FILE

if TYPE_CHECKING:
    from logpipe.follow import Reloaded
    from logpipe.liveview import LiveView
    from logpipe.report.scheduler import DigestScheduler
    from logpipe.report.trends import TrendRecorder
    from logpipe.sinks.outbox import Dispatcher
    from logpipe.sources.monitors import Monitors
    from logpipe.telemetry import Telemetry


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY[=VALUE]",
    help="Also follow every container carrying this label (repeatable: all must match), "
    "including those started later, e.g. com.docker.compose.project=clipforge.",
)
@rules_option
@config_option
@click.option(
    "--since",
    "since_text",
    default="5m",
    show_default=True,
    help="Where to start a container logpipe has no checkpoint for: now, beginning, or a duration back.",
)
@format_option("How alerts are printed.")
@events_out_option
@click.option("--until-exit", is_flag=True, help="Stop once every followed container has exited and been read.")
@click.option(
    "--metrics-address", metavar="HOST:PORT", help="Serve Prometheus /metrics and /health there (e.g. 127.0.0.1:9108)."
)
@click.option(
    "--read",
    "read_mode",
    type=click.Choice(["auto", "api"]),
    default="auto",
    show_default=True,
    envvar="LOGPIPE_DOCKER_READ",
    help="auto: read a container's json-file log directly when it is readable here (root on the Docker host), "
    "else through the Engine API; api: always the Engine API.",
)
@click.option(
    "--view/--no-view",
    default=None,
    help="A live view of the followed containers, lines/s and alerts (default: when stdout is a terminal).",
)
def follow(
    names: tuple[str, ...],
    labels: tuple[str, ...],
    rule_paths: tuple[Path, ...],
    config_path: Path | None,
    since_text: str,
    output_format: str,
    events_out: BinaryIO | None,
    until_exit: bool,
    metrics_address: str | None,
    read_mode: str,
    view: bool | None,
) -> None:
    """Follow the Docker logs of containers NAMES (across restarts and recreations), match the rules, and send
    the alerts. Resumes from its checkpoints after a restart.

    A NAME is a container name or id, or a Compose service name (`clipforge-api` finds the service's newest
    container, `clipforge-clipforge-api-1`, and its successors)."""
    from logpipe.follow import parse_since

    if not names and not labels:
        raise click.UsageError("name at least one container (or Compose service), or give --label")
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    check_actions_or_fail(config, config_path, ruleset)
    dirs = rule_dirs(paths)
    try:
        initial_since = parse_since(since_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    if view is None:
        view = sys.stdout.isatty() and output_format != "jsonl"

    def reload_rules() -> Reloaded | None:
        """SIGHUP or `logpipe reload`: the config and rules read again; None (and each problem logged with its
        file:line) when they have errors, so the running set stays."""
        import structlog

        from logpipe.follow import Reloaded

        log = structlog.get_logger("logpipe.reload")
        try:
            fresh = load_config(config_path)
            ruleset = load_rules(list(rule_paths) or fresh.rules or None)
            return Reloaded(ruleset, [window.window() for window in fresh.maintenance], router_for(fresh), fresh)
        except (ConfigError, RuleLoadError) as error:
            for problem in getattr(error, "errors", [error]):
                log.error("reload refused; the running rules stay", problem=str(problem))
            return None

    with contextlib.ExitStack() as stack:
        live = None
        if view:
            from logpipe.liveview import LiveView

            live = stack.enter_context(LiveView(sys.stdout))
            # from here on stdout and stderr print above the view: alerts and logpipe's own log go through it
            level = click.get_current_context().find_root().params["log_level"]
            configure_logging("logpipe", version=version(), level=level, stream=sys.stderr)
        sink = alert_printer(output_format, Redactor(), config, dirs)
        counters = _follow(
            names,
            labels,
            config,
            ruleset,
            dirs,
            sink,
            initial_since,
            until_exit,
            events_out,
            metrics_address,
            live,
            direct=read_mode == "auto",
            reload_rules=reload_rules,
            config_path=config_path,
        )
    click.echo(counters, err=True)  # after the view is gone


def _follow(
    names: Sequence[str],
    labels: Sequence[str],
    config: Config,
    ruleset: RuleSet,
    dirs: Sequence[Path],
    sink: ConsoleSink | JsonLinesSink,
    initial_since: int,
    until_exit: bool,
    events_out: BinaryIO | None,
    metrics_address: str | None,
    live: LiveView | None,
    direct: bool,
    reload_rules: Callable[[], Reloaded | None] | None = None,
    config_path: Path | None = None,
) -> str:
    """Follow until stopped; the counters as JSON."""
    import socket
    import time

    from logpipe.follow import Follower, dump_counters
    from logpipe.incidents.book import IncidentBook
    from logpipe.state import STATE_FILE, StateStore
    from logpipe.telemetry import Telemetry

    telemetry = Telemetry()
    # the rules' log-derived metrics, served beside logpipe's own (also after a reload adds or changes some)
    from logpipe.engine.metricexport import MetricSetCollector
    from logpipe.engine.metrics import MetricSet

    engine = Engine(ruleset, metrics=MetricSet(ruleset.metrics))
    telemetry.registry.register(MetricSetCollector(lambda: engine.metrics))
    if metrics_address:
        host, _, port = metrics_address.rpartition(":")
        try:
            bound = telemetry.serve(host or "127.0.0.1", int(port))
        except (ValueError, OSError) as error:
            raise click.BadParameter(
                f"cannot serve on {metrics_address}: {error}", param_hint="--metrics-address"
            ) from None
        click.echo(f"metrics and health on http://{host or '127.0.0.1'}:{bound}/metrics", err=True)
    client = _connect_docker(telemetry)
    monitors = _monitors_or_fail(config, config_path, client)
    if reload_rules is not None:
        reload_rules = _reloading_probes(reload_rules, monitors, config_path)
    dispatcher = build_dispatcher(
        config, Redactor(), dirs, lambda name, outcome: telemetry.deliveries.labels(name, outcome).inc()
    )
    store = (
        dispatcher.store
        if dispatcher is not None
        else StateStore(config.state_dir / STATE_FILE, config.outbox.max_pending)
    )
    if dispatcher is not None:
        dispatcher.start()
    from logpipe.telemetry import HealthCollector

    sink_names = list(dispatcher.sinks) if dispatcher is not None else []
    telemetry.registry.register(HealthCollector(store.counts, sink_names, lambda: engine.disabled))
    telemetry.incidents = lambda: store.incidents(100)
    book = IncidentBook(ruleset, silences_for(config, store))
    fleet = _fleet_sync(config, engine, book, store, telemetry)
    follower = Follower(
        client,
        names,
        store,
        engine,
        sink.deliver,
        dispatcher,
        initial_since,
        until_exit,
        events_out,
        telemetry=telemetry,
        view=None if live is None else live.show if monitors is None else monitors.view(live.show),
        direct=direct,
        labels=labels,
        book=book,
        reload_rules=reload_rules,
        fleet=fleet,
    )
    if fleet is not None:
        fleet.heartbeat = lambda: {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "containers": list(follower.names),
            "lag": max((time.time_ns() - t for t in follower._last_time.values()), default=0) / 1e9,
            "at": time.time(),
        }
    pid_file = config.state_dir / PID_FILE
    pid_file.write_text(f"{os.getpid()}\n")  # for `logpipe reload`
    trends = _trend_recorder(config, engine, telemetry)
    digests = _digest_scheduler(config, dispatcher, engine, trends)
    if monitors is not None:  # probes and resource readings, on their own threads, into the follower's queue
        monitors.start(follower.queue, follower.stopping, follower.names, telemetry, ruleset)
    settle_heap()
    try:
        counters = follower.run()
    finally:
        if digests is not None:
            digests.stop()  # saves what this process counted towards the next digest
        trends.stop()  # and the last seconds' trends
        if dispatcher is not None:
            dispatcher.drain(10)
            dispatcher.stop()
        if fleet is not None:
            fleet.backend.close()
        store.close()
        telemetry.close()
        pid_file.unlink(missing_ok=True)
    return dump_counters(counters).decode()


def _fleet_sync(config: Config, engine: Engine, book: Any, store: Any, telemetry: Telemetry) -> Any:
    """With `state: {backend: redis}`, the sync that shares windows, claims, counts and silences (logpipe/fleet/);
    None with the local backend (this host's state is the whole state)."""
    if config.state.backend == "local":
        return None
    from logpipe.fleet.connect import open_backend
    from logpipe.fleet.sync import FleetSync

    backend = open_backend(config.state, config.state_dir)
    click.echo(f"state shared as instance {backend.instance} ({Redactor().text(config.state.url or '')})", err=True)
    return FleetSync(backend, engine, book, store, telemetry, config.state.claim_ttl)


def _trend_recorder(config: Config, engine: Engine, telemetry: Telemetry) -> TrendRecorder:
    """The thread that keeps the per-minute trends of the metrics for `logpipe report --state-dir` and the digest's
    report (report/trends.py), started."""
    from logpipe.report.schedule import DEFAULT_KEEP
    from logpipe.report.trends import TRENDS_FILE, TrendRecorder, TrendStore
    from logpipe.sources.readinglog import READINGS_FILE

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
    import socket

    from logpipe.report.attachment import REPORTS_DIR
    from logpipe.report.digest import rule_title
    from logpipe.report.fromstate import follower_report
    from logpipe.report.scheduler import DigestScheduler

    def titles(rule: str) -> str:
        return rule_title(engine.ruleset, rule)

    host = socket.gethostname()
    scheduler = DigestScheduler(
        config.report, dispatcher, lambda: engine.metrics, titles, source=host,
        report=follower_report(trends, dispatcher.store, host, titles), reports_dir=config.state_dir / REPORTS_DIR,
    )  # fmt: skip
    scheduler.start()
    return scheduler


def _connect_docker(telemetry: Telemetry) -> Any:
    """The Docker client. docker-py asks the daemon its API version on connecting, so a daemon down at start
    (stopped, restarting, socket not there yet) fails here: retry with capped backoff, /health degraded with the
    reason meanwhile, as the follower does when the daemon goes away later."""
    import time

    import docker
    import structlog

    delay = 0.5
    while True:
        try:
            client = docker.from_env(timeout=30)
        except docker.errors.DockerException as error:
            reason = f"Docker daemon unreachable at start, retrying: {error}"
            telemetry.degraded("docker", reason)
            structlog.get_logger("logpipe.follow").warning("docker unavailable", reason=str(error), retry_in=delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        telemetry.degraded("docker", None)
        return client


def _monitors_or_fail(config: Config, config_path: Path | None, client: Any) -> Monitors:
    """The probe and resource sources of the config; a probe host that is neither resolvable nor a container's
    name stops the start with the config's file:line."""
    from logpipe.sources.monitors import Monitors

    try:
        return Monitors(config, client, config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _reloading_probes(
    reload_rules: Callable[[], Reloaded | None], monitors: Monitors, config_path: Path | None
) -> Callable[[], Reloaded | None]:
    """The reload, with the config's probes applied too; a probe host that is no longer found refuses the whole
    reload (logged with file:line), as a broken rule does."""

    def reload() -> Reloaded | None:
        import structlog

        reloaded = reload_rules()
        if reloaded is None or reloaded.config is None:
            return reloaded
        try:
            monitors.reload(reloaded.config, config_path)
        except ConfigError as error:
            structlog.get_logger("logpipe.reload").error("reload refused; the running rules stay", problem=str(error))
            return None
        return reloaded

    return reload


@click.command()
@config_option
def reload(config_path: Path | None) -> None:
    """Make the running `logpipe follow` re-read its rules, templates and config (as SIGHUP does). A set
    with errors is refused and logged with file:line; the old set keeps running."""
    config = config_or_fail(config_path)
    pid_file = config.state_dir / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except FileNotFoundError:
        raise click.ClickException(f"no running follower: {pid_file} does not exist") from None
    except (ValueError, ProcessLookupError):
        raise click.ClickException(f"no running follower: {pid_file} names no live process") from None
    click.echo(f"asked logpipe follow (pid {pid}) to reload")
