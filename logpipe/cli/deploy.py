"""`logpipe doctor` (is this host ready?) and `logpipe init` (a first logpipe.yml and Compose service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from logpipe.cli.options import config_option, config_or_fail
from logpipe.config.settings import Config
from logpipe.deploy.doctor import Check, channel_check, docker_checks, rules_check, sentry_check, state_dir_check


@click.command()
@config_option
@click.option("--send", is_flag=True, help="Also send a test notification through every channel and Sentry.")
def doctor(config_path: Path | None, send: bool) -> None:
    """Check what a deployment needs: Docker, container logs, state directory, rules and templates, channels,
    Sentry, clock. Prints each check, with the fix when it fails; exits 1 when any fails."""
    config = config_or_fail(config_path)
    failed = 0
    for check in _checks(config, send):
        failed += not check.ok
        mark = click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red", bold=True)
        click.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            click.echo(f"     fix: {check.fix}")
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        raise SystemExit(1)
    click.echo("all checks passed")


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Where to write logpipe.yml and compose.logpipe.yml.",
)
def init(directory: Path) -> None:
    """Write a commented logpipe.yml and a Compose service for the containers running here. Refuses to
    overwrite either file."""
    from logpipe.deploy.scaffold import running_services, write_starter_files

    try:
        running = running_services(_docker_client())
    except Exception as error:  # the docker SDK raises anything from DockerException to OSError
        click.echo(f"Docker not reachable ({type(error).__name__}): no containers to list", err=True)
        running = []
    try:
        written = write_starter_files(directory, running)
    except FileExistsError as error:
        raise click.ClickException(f"{error.filename} exists; not overwriting it (move it away first)") from None
    for path in written:
        click.echo(f"wrote {path}")


def _docker_client() -> object:
    import docker

    return docker.from_env(timeout=5)


def _checks(config: Config, send: bool) -> Iterator[Check]:
    yield from docker_checks(_docker_client)
    yield state_dir_check(config.state_dir)
    yield from rules_check(config)
    for name, channel in config.channels.items():
        for url in channel.urls():
            yield channel_check(name, url)
    yield sentry_check(config.sentry_dsn())
    if send:
        yield from _sends(config)


def _sends(config: Config) -> Iterator[Check]:
    from logpipe.sinks.base import DeliveryError
    from logpipe.sinks.wiring import build_sinks, renderer_for, send_test_notification

    try:
        sinks = build_sinks(config, renderer_for(config))
    except ValueError as error:
        yield Check("test notifications", False, str(error), "fix the channel in the config")
        return
    for name, sink in sinks.items():
        try:
            send_test_notification(sink)
        except DeliveryError as error:
            yield Check(f"send to {name}", False, str(error), f"logpipe notify test {name} after fixing it")
        else:
            yield Check(f"send to {name}", True, "test notification accepted")
