"""`logpipe probe URL`: one check of a health endpoint, printed as the event `logpipe follow` would match."""

from __future__ import annotations

import sys

import click
import orjson
from pydantic import ValidationError

from logpipe.errors import ConfigError
from logpipe.redact import Redactor
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, Resolver, direct, pool_for
from logpipe.sources.probes.watch import CheckWatch


@click.command()
@click.argument("url")
@click.option("--expect", "expect_status", type=int, multiple=True, help="A status that counts as up (default: 2xx).")
@click.option("--body", "body", multiple=True, metavar="PATH=VALUE", help="The JSON body must have VALUE at PATH.")
@click.option("--method", type=click.Choice(["GET", "HEAD"]), default="GET", show_default=True)
@click.option("--timeout", default="5s", show_default=True, help="Connect and read timeout.")
@click.option("--name", default="", help="The probe's name in the event (default: host and path).")
@click.option("--ca-file", default="", help="https: trust the PEM certificates in this file instead of the system's.")
@click.option("--insecure", is_flag=True, help="https: do not check the certificate.")
def probe(
    url: str,
    expect_status: tuple[int, ...],
    body: tuple[str, ...],
    method: str,
    timeout: str,
    name: str,
    ca_file: str,
    insecure: bool,
) -> None:
    """Check URL once and print the probe event (JSON). Exit code 0 when the check passed, 1 when it failed.
    A host named after a container (`http://clipforge-api:3000/health`) is reached through Docker."""
    conditions = {}
    for item in body:
        path, equals, value = item.partition("=")
        if not equals or not path:
            raise click.BadParameter(f"expected PATH=VALUE, got {item!r}", param_hint="--body")
        conditions[path] = _scalar(value)
    try:
        config = ProbeConfig(
            name=name, url=url, interval=timeout, timeout=timeout, method=method,
            expect_status=list(expect_status), body=conditions, ca_file=ca_file, insecure_skip_verify=insecure,
        )  # fmt: skip
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        hint = {
            "interval": "--timeout", "timeout": "--timeout", "expect_status": "--expect", "url": "URL",
            "ca_file": "--ca-file",
        }.get(field)  # fmt: skip
        raise click.BadParameter(problem["msg"], param_hint=hint) from None
    event = CheckWatch(config).check(pool_for(config), ProbeMemory(), _resolver(config))
    sys.stdout.buffer.write(Redactor().event_json(event) + b"\n")  # the body is the endpoint's: redacted
    sys.stdout.flush()
    if not event.fields["probe"]["ok"]:
        sys.exit(1)


def _resolver(config: ProbeConfig) -> Resolver:
    from logpipe.sources.probes.targets import resolvers, resolves

    host = config.url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2].rsplit(":", 1)[0].strip("[]")
    if resolves(host):
        return direct
    import docker

    try:
        client = docker.from_env(timeout=10)
    except docker.errors.DockerException:
        return direct  # no Docker to ask: the check reports the DNS failure
    try:
        return resolvers([config], client, None)[0]
    except ConfigError as error:
        raise click.ClickException(f"{error.problem}") from None


def _scalar(text: str) -> object:
    """`ok` stays a string; `3600`, `true`, `null` are read as JSON, so --body uptime=3600 compares numbers."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
