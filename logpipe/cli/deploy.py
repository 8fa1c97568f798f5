"""`logpipe doctor` (is this host ready?) and `logpipe init` (a first logpipe.yml and Compose service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from logpipe.cli.options import config_option, config_or_fail
from logpipe.cli.waiting import Waiting
from logpipe.config.settings import Config
from logpipe.deploy.doctor import (
    NETWORK_TIMEOUT_S,
    Check,
    channel_check,
    docker_checks,
    paging_check,
    probe_check,
    rules_check,
    sentry_check,
    state_dir_check,
)
from logpipe.sources.probes.http import redact_url


@click.command()
@config_option
@click.option("--send", is_flag=True, help="Also send a test notification through every channel and Sentry.")
def doctor(config_path: Path | None, send: bool) -> None:
    """Check what a deployment needs: Docker, container logs, state directory, rules and templates, who a critical
    notification pages, channels, Sentry, each probe's URL, clock. Prints each check, with the fix when it fails
    or warns; exits 1 when any fails (a warning alone: 0, and says so)."""
    config = config_or_fail(config_path)
    failed = warned = 0
    checks, doing = _checks(config, config_path, send), "Docker"
    while True:
        with Waiting(doing):  # a check that takes more than 2 s (a network timeout) says what it waits on
            check = next(checks, None)
        if check is None:
            break
        if isinstance(check, str):
            doing = check
            continue
        failed += not check.ok
        warned += check.ok and check.warning
        if not check.ok:
            mark = click.style("FAIL", fg="red", bold=True)
        else:
            mark = click.style("warn", fg="yellow", bold=True) if check.warning else click.style("ok  ", fg="green")
        click.echo(f"{mark} {check.name}: {check.detail}")
        if (not check.ok or check.warning) and check.fix:
            click.echo(f"     fix: {check.fix}")
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        raise SystemExit(1)
    click.echo(f"no check failed, {warned} warning(s)" if warned else "all checks passed")


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Where to write logpipe.yml and compose.logpipe.yml.",
)
@click.option(
    "--full", is_flag=True, help="Also write examples of probes, the daily digest and a maintenance window (commented)."
)
def init(directory: Path, full: bool) -> None:
    """Write a commented logpipe.yml and a Compose service for the containers running here. Refuses to
    overwrite either file. Then: logpipe doctor --config logpipe.yml."""
    from logpipe.deploy.scaffold import running_services, write_starter_files

    try:
        with Waiting("Docker to list the running containers"):
            running = running_services(_docker_client())
    except Exception as error:  # the docker SDK raises anything from DockerException to OSError
        click.echo(f"Docker not reachable ({type(error).__name__}): no containers to list", err=True)
        running = []
    try:
        written = write_starter_files(directory, running, full)
    except FileExistsError as error:
        raise click.ClickException(f"{error.filename} exists; not overwriting it (move it away first)") from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: logpipe doctor --config {written[0]}")


def _docker_client() -> object:
    import docker

    return docker.from_env(timeout=5)


def _checks(config: Config, config_path: Path | None, send: bool) -> Iterator[Check | str]:
    """Each check in turn; before a slow one, what it will wait on (a string: shown when it takes over 2 s)."""
    yield from docker_checks(_docker_client)
    yield "the state directory"
    yield state_dir_check(config.state_dir)
    yield "the rules and templates to load"
    ruleset, checks = rules_check(config)
    yield from checks
    yield paging_check(config, ruleset)
    for name, channel in config.channels.items():
        for url in channel.urls():
            yield f"channel {name} to answer (up to {NETWORK_TIMEOUT_S:g} s)"
            yield channel_check(name, url)
    yield f"Sentry to answer (up to {NETWORK_TIMEOUT_S:g} s)"
    yield sentry_check(config.sentry_dsn())
    if config.probes:
        try:
            client = _docker_client()
        except Exception:  # the docker SDK raises anything from DockerException to OSError: hosts then resolve only
            client = None
        for index, probe in enumerate(config.probes):
            yield f"probe {probe.label} ({redact_url(probe.url)}, up to {probe.timeout / 1e9:g} s)"
            yield probe_check(index, probe, config_path, client)
    if send:
        yield from _sends(config)


def _sends(config: Config) -> Iterator[Check | str]:
    from logpipe.sinks.base import DeliveryError
    from logpipe.sinks.wiring import build_sinks, renderer_for, send_test_notification

    try:
        sinks = build_sinks(config, renderer_for(config))
    except ValueError as error:
        yield Check("test notifications", False, str(error), "fix the channel in the config")
        return
    for name, sink in sinks.items():
        yield f"{name} to accept the test notification"
        try:
            send_test_notification(sink)
        except DeliveryError as error:
            yield Check(f"send to {name}", False, str(error), f"logpipe notify test {name} after fixing it")
        else:
            yield Check(f"send to {name}", True, "test notification accepted")
