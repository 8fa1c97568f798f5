"""The `logpipe` command: thin click wrappers that parse arguments, call the library and print."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click
from click._termui_impl import ProgressBar

from logpipe.config import Config, load_config
from logpipe.engine import Engine, RuleLoadError, RuleSet, load_rules
from logpipe.errors import ConfigError, LogpipeError
from logpipe.event import Event, Origin
from logpipe.logconfig import configure_logging
from logpipe.output import event_line
from logpipe.outputs import build_dispatcher, renderer_for, router_for, unknown_actions
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines, read_ahead, run_incidents, settle_heap
from logpipe.redact import Redactor
from logpipe.sinks.console import ConsoleSink
from logpipe.sinks.jsonl import JsonLinesSink
from logpipe.sources.file import ProgressCallback, read_lines

if TYPE_CHECKING:
    from logpipe.follow import Reloaded
    from logpipe.liveview import LiveView
    from logpipe.report.scheduler import DigestScheduler
    from logpipe.report.trends import TrendRecorder
    from logpipe.sinks.outbox import Dispatcher
    from logpipe.sources.monitors import Monitors
    from logpipe.telemetry import Telemetry


class _Main(click.Group):
    """The `logpipe` group: any LogpipeError (bad config, unusable state directory...) is a one-line message and
    exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LogpipeError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logpipe")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    envvar="LOGPIPE_LOG_LEVEL",
    help="logpipe's own log (on stderr).",
)
def main(log_level: str) -> None:
    """logpipe: follow, parse and alert on structured logs."""
    # logpipe's own operation is logged through its own structlog config, on stderr: stdout carries output
    configure_logging("logpipe", version=_version(), level=log_level, stream=sys.stderr)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("logpipe")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without installing
        return "0"


def rules_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help="A rule file or directory (repeatable). Default: the ClipForge pack shipped with logpipe.",
    )(function)


def load_or_fail(paths: Sequence[Path]) -> RuleSet:
    """The rules, or a message naming each bad file, line and field, and exit code 1 (no traceback)."""
    try:
        return load_rules(list(paths) or None)
    except RuleLoadError as error:
        raise click.ClickException(f"{len(error.errors)} problem(s) in the rules:\n" + str(error)) from None


def check_actions_or_fail(config: Config, config_path: Path | None, ruleset: RuleSet) -> None:
    """With a config, every rule's `actions` must name a channel it defines (else those alerts go nowhere)."""
    if config_path is None:
        return
    problems = unknown_actions(config, ruleset)
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem(s) between the rules and {config_path}:\n" + "\n".join(problems)
        )


def source_origin(source: BinaryIO, source_name: str | None = None) -> Origin:
    """Where lines come from, spelled the same whatever the command line said: a file by its real absolute path
    (`app.log`, `./app.log` and a symlink to it are one source, so a replay gives the same alert ids), stdin as
    `stdin` or the --source-name given (say, the path of the file being piped in)."""
    name = getattr(source, "name", "-")
    if name in ("-", "<stdin>") or not isinstance(name, str):
        return Origin(source="stdin", name=source_name or "stdin")
    return Origin(source="file", name=source_name or os.path.realpath(name))


def source_name_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--source-name",
        metavar="NAME",
        help="The source's name in events and alert ids (default: the file's absolute path, or `stdin`).",
    )(function)


def alert_printer(
    output_format: str, redactor: Redactor | None, config: Config, rule_dirs: Sequence[Path]
) -> ConsoleSink | JsonLinesSink:
    """Alerts on stdout: through the console template on a terminal (or --format human), else JSON lines."""
    human = output_format == "human" or (output_format == "auto" and sys.stdout.isatty())
    if human:
        return ConsoleSink(sys.stdout, sys.stdout.isatty(), redactor, renderer_for(config, rule_dirs))
    return JsonLinesSink(sys.stdout.buffer, redactor)


def config_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="LOGPIPE_CONFIG",
        help="logpipe.yml: state dir, rules, Sentry, channels, routes (env: LOGPIPE_CONFIG).",
    )(function)


class _PrivateAppendFile(click.ParamType[BinaryIO]):
    """A file opened for appending, created 0600 when new (events are logs: nobody else's to read); - is stdout."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> BinaryIO:
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return]
        if value == "-":
            return sys.stdout.buffer
        try:
            return open(value, "ab", opener=lambda path, flags: os.open(path, flags, 0o600))
        except OSError as error:
            self.fail(f"cannot open {value}: {error.strerror}", param, ctx)


def events_out_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--events-out",
        type=_PrivateAppendFile(),
        help="Also append every parsed event (redacted) as JSON lines (a new file is created 0600).",
    )(function)


def _written(events: Iterable[Event], out: BinaryIO, redactor: Redactor) -> Iterator[Event]:
    """Each event on its way to the rules, appended to `out` as `logpipe follow --events-out` writes it."""
    for event in events:
        out.write(redactor.event_json(event) + b"\n")
        yield event


def config_or_fail(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@rules_option
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "human", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: human on a terminal, JSON lines otherwise.",
)
@click.option("--no-redact", is_flag=True, help="Show secrets in printed alerts (what is sent is always redacted).")
@click.option(
    "--wait",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait at the end for deliveries; what is left stays in the outbox.",
)
@source_name_option
@events_out_option
def replay(
    source: BinaryIO,
    rule_paths: tuple[Path, ...],
    config_path: Path | None,
    output_format: str,
    no_redact: bool,
    wait: float,
    source_name: str | None,
    events_out: BinaryIO | None,
) -> None:
    """Run a saved log (FILE, or - for stdin; Docker timestamp prefixes or json-file records are understood)
    through the parsers and rules, print the alerts it fires on event time, and send them to the configured
    receivers through the outbox."""
    from logpipe.incidents.book import IncidentBook
    from logpipe.incidentscli import incident_table, silences_for

    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    check_actions_or_fail(config, config_path, ruleset)
    engine = Engine(ruleset)
    rule_dirs = [p if p.is_dir() else p.parent for p in paths]
    sink = alert_printer(output_format, None if no_redact else Redactor(), config, rule_dirs)
    dispatcher = build_dispatcher(config, Redactor(), rule_dirs)
    book = IncidentBook(ruleset, silences_for(config, dispatcher.store if dispatcher is not None else None))
    if dispatcher is not None:
        dispatcher.start()
    sent = silenced = 0
    events = parse_lines(read_lines(source, source_origin(source, source_name)))
    if events_out is not None:
        events = _written(events, events_out, Redactor())
    settle_heap()
    try:
        for notification in run_incidents(read_ahead(events, engine), engine, book):
            if notification.silenced:
                silenced += 1  # recorded in the incident (`logpipe incidents`), not sent
                continue
            if notification.folded_into is None:  # a folded symptom is only a breadcrumb on its cause's trail
                sink.deliver(notification)
                sent += 1
            if dispatcher is not None:
                dispatcher.enqueue(notification)
    finally:
        if events_out is not None:
            events_out.flush()
        if dispatcher is not None:
            dispatcher.drain(wait)
            dispatcher.stop()
    records = book.snapshot()
    if dispatcher is not None:
        dispatcher.store.save_progress({}, {}, records)
    click.echo(incident_table(records), err=True, nl=False)
    summary = f"{engine.events} events, {len(records)} incidents, {sent} notifications"
    if silenced:
        summary += f" ({silenced} silenced)"
    if engine.disabled:
        summary += "; disabled rules: " + ", ".join(f"{rule} ({why})" for rule, why in engine.disabled.items())
    if dispatcher is not None:
        summary += "; deliveries: " + _delivery_summary(dispatcher.store.counts())
        dispatcher.store.close()
    click.echo(summary, err=True)


@main.command()
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
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "human", "jsonl"]),
    default="auto",
    show_default=True,
    help="How alerts are printed.",
)
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
    rule_dirs = [p if p.is_dir() else p.parent for p in paths]
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
            configure_logging("logpipe", version=_version(), level=level, stream=sys.stderr)
        sink = alert_printer(output_format, Redactor(), config, rule_dirs)
        counters = _follow(
            names,
            labels,
            config,
            ruleset,
            rule_dirs,
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
    rule_dirs: Sequence[Path],
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
    from logpipe.incidentscli import PID_FILE, silences_for
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
        config, Redactor(), rule_dirs, lambda name, outcome: telemetry.deliveries.labels(name, outcome).inc()
    )
    store = (
        dispatcher.store
        if dispatcher is not None
        else StateStore(config.state_dir / STATE_FILE, config.outbox.max_pending)
    )
    if dispatcher is not None:
        dispatcher.start()
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
    from logpipe.fleet.backend import open_backend
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


def _delivery_summary(counts: dict[tuple[str, str], int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{sink} {state} {count}" for (sink, state), count in sorted(counts.items()))


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "jsonl", "table"]),
    default="auto",
    show_default=True,
    help="auto: a table on a terminal, JSON lines otherwise.",
)
@click.option("--no-redact", is_flag=True, help="Print secrets as they are (the output stays on this host).")
@click.option("--max-line-bytes", type=click.IntRange(min=1024), default=Limits().max_line_bytes, show_default=True)
@source_name_option
def parse(source: BinaryIO, output_format: str, no_redact: bool, max_line_bytes: int, source_name: str | None) -> None:
    """Parse a saved log (FILE, or - for stdin) and print one structured event per log event."""
    origin = source_origin(source, source_name)
    table = output_format == "table" or (output_format == "auto" and sys.stdout.isatty())
    redactor = None if no_redact else Redactor()
    assembler = Assembler(limits=Limits(max_line_bytes=max_line_bytes))
    out = sys.stdout
    color = table and out.isatty()

    size = _file_size(source)
    progress: ProgressCallback | None = None
    bar = None
    if size and sys.stderr.isatty():
        bar = click.progressbar(length=size, label="parsing", file=sys.stderr)
        progress = _progress_updater(bar)

    events = parse_lines(read_lines(source, origin, progress, max_line_bytes), assembler)
    binary_out = out.buffer if hasattr(out, "buffer") else None
    try:
        for event in events:
            if table:
                out.write(event_line(redactor.event(event) if redactor else event, color) + "\n")
                continue
            line = redactor.event_json(event) if redactor else event.to_json()  # the final dict, redacted
            if binary_out is not None:
                binary_out.write(line + b"\n")
            else:
                out.write(line.decode() + "\n")
    except BrokenPipeError:  # `logpipe parse big.log | head`: stop quietly, as other tools do
        sys.stderr.close()
    finally:
        if bar is not None:
            bar.render_finish()


def _progress_updater(bar: ProgressBar[int]) -> ProgressCallback:
    last = 0

    def update(done: int) -> None:
        nonlocal last
        bar.update(done - last)
        last = done

    return update


def _file_size(source: BinaryIO) -> int:
    try:
        return os.fstat(source.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return 0


from logpipe import deploycli, fleetcli, incidentscli, notifycli, probecli, rulescli  # noqa: E402  (register the command groups)
from logpipe.metricscli import metrics as metrics_command  # noqa: E402
from logpipe.reportcli import report as report_command  # noqa: E402

rulescli.register(main)
notifycli.register(main)
incidentscli.register(main)
probecli.register(main)
main.add_command(metrics_command)
main.add_command(report_command)
deploycli.register(main)
fleetcli.register(main)
