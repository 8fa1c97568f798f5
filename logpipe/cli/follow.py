"""`logpipe follow NAMES`: the live agent on Docker containers, until stopped (agent/build.py puts it together);
`logpipe reload`: ask the running one to re-read its rules, templates and config."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import BinaryIO

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
from logpipe.cli.params import DurationParam, complete_container_names
from logpipe.cli.root import version
from logpipe.cli.waiting import Waiting
from logpipe.config.durations import parse_duration
from logpipe.console.printers import printer_for
from logpipe.errors import ListenError, StateError
from logpipe.logconfig import configure_logging
from logpipe.redact import Redactor
from logpipe.sinks.wiring import renderer_for
from logpipe.state.directory import signal_follower


@click.command()
@click.argument("names", nargs=-1, shell_complete=complete_container_names)
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
    "--wait-for",
    type=DurationParam("s"),
    default=0.0,
    metavar="DURATION",
    help="How long to wait for a NAME no container has (a typo, or a service not started yet) before exiting 1; "
    "default: for ever (a warning says so at once).",
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
    wait_for: float,
    view: bool | None,
) -> None:
    """Follow the Docker logs of containers NAMES (across restarts and recreations), match the rules, and send
    the alerts. Resumes from its checkpoints after a restart.

    A NAME is a container name or id, or a Compose service name (`clipforge-api` finds the service's newest
    container, `clipforge-clipforge-api-1`, and its successors)."""
    from logpipe.agent.build import Agent, FollowRequest  # the docker client and the whole agent: only here

    if not names and not labels:
        raise click.UsageError("name at least one container (or Compose service), or give --label")
    config = config_or_fail(config_path)
    paths = list(rule_paths) or config.rules
    ruleset = load_or_fail(paths)
    check_actions_or_fail(config, config_path, ruleset)
    try:
        initial_since = parse_since(since_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    if view is None:
        view = sys.stdout.isatty() and output_format != "jsonl"
    request = FollowRequest(
        names, labels, initial_since, until_exit, read_mode == "auto", events_out, metrics_address, config_path,
        rule_paths, rule_dirs(paths), wait_for,
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        live = None
        if view:
            from logpipe.console.liveview import LiveView

            live = stack.enter_context(LiveView(sys.stdout))
            # from here on stdout and stderr print above the view: alerts and logpipe's own log go through it
            level = click.get_current_context().find_root().params["log_level"]
            configure_logging("logpipe", version=version(), level=level, stream=sys.stderr)
        printer = printer_for(output_format, Redactor(), renderer_for(config, request.template_dirs))
        try:
            agent = Agent.from_config(config, ruleset, request, printer.show, None if live is None else live.show, _say)
        except ListenError as error:
            raise click.BadParameter(str(error), param_hint="--metrics-address") from None
        counters = agent.run()
    click.echo(counters.to_json(), err=True)  # after the view is gone
    if counters.missing:
        raise click.ClickException("; ".join(counters.missing))


def parse_since(text: str) -> int:
    """`now`, `beginning`, or a duration back from now (`5m`), as ns since the epoch."""
    if text == "now":
        return time.time_ns()
    if text == "beginning":
        return 0
    return time.time_ns() - parse_duration(text)


def _say(text: str) -> None:
    click.echo(text, err=True)


@click.command()
@config_option
@click.option(
    "--timeout",
    type=DurationParam("s"),
    default="30s",
    show_default=True,
    help="How long to wait for the follower's answer (it reloads between batches of lines).",
)
def reload(config_path: Path | None, timeout: float) -> None:
    """Make the running `logpipe follow` re-read its rules, templates and config (as SIGHUP does), and wait for
    its answer. Exit code 0 when the new set runs; 1 when it was refused (each problem printed with file:line: the
    old set keeps running), or no follower answered."""
    from logpipe.agent.reloadanswer import read_answer

    config = config_or_fail(config_path)
    asked = time.monotonic_ns()  # before the signal: the answer to wait for is of a reload begun after this
    try:
        pid = signal_follower(config.state_dir, signal.SIGHUP)  # only the follower itself: never a stale pid
    except StateError as error:
        raise click.ClickException(str(error)) from None
    deadline = time.monotonic() + timeout
    with _Exit(pid) as gone, Waiting(f"logpipe follow (pid {pid}) to answer the reload (up to {timeout:g} s)"):
        while (answer := read_answer(config.state_dir)) is None or not answer.answers(pid, asked):
            if gone.wait(0.05):
                answer = read_answer(config.state_dir)  # it may have answered between the read above and its exit
                if answer is not None and answer.answers(pid, asked):
                    break
                raise click.ClickException(f"logpipe follow (pid {pid}) exited before answering the reload")
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"logpipe follow (pid {pid}) did not answer the reload within {timeout:g} s; its log says "
                    "whether it reloaded"
                )
    if not answer.taken:
        problems = "\n".join(f"  {problem}" for problem in answer.problems)
        click.echo(f"reload refused by logpipe follow (pid {pid}); the rules it ran before still run:", err=True)
        click.echo(problems, err=True)
        raise SystemExit(1)
    windows = f", {answer.maintenance_windows} maintenance window(s)" if answer.maintenance_windows else ""
    click.echo(f"logpipe follow (pid {pid}) reloaded: {answer.rules} rules{windows}")


class _Exit:
    """The follower's exit, seen through a pidfd: its exit even while it is a zombie (os.kill(pid, 0) still
    succeeds then), and never another process given its pid since."""

    def __init__(self, pid: int) -> None:
        self.pid, self._fd = pid, -1

    def __enter__(self) -> _Exit:
        with contextlib.suppress(ProcessLookupError):  # gone already: wait() says so
            self._fd = os.pidfd_open(self.pid)
        return self

    def __exit__(self, *_: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)

    def wait(self, seconds: float) -> bool:
        """True when the follower has exited (after up to `seconds` of waiting for it to)."""
        if self._fd < 0:
            return True
        return bool(select.select([self._fd], [], [], seconds)[0])  # readable once the process has exited
