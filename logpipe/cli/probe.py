"""`logpipe probe URL`: one check of a health endpoint, printed as the event `logpipe follow` would match."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text

from logpipe.cli.waiting import Waiting
from logpipe.console.inert import inert
from logpipe.errors import ConfigError
from logpipe.redact import Redactor
from logpipe.sources.probes.config import ProbeConfig
from logpipe.sources.probes.http import ProbeMemory, Resolver, direct, healthy, pool_for, redact_url
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
    """Check URL once and print the result: a table on a terminal, else the probe event `logpipe follow` would
    match (JSON). Exit code 0 when the endpoint is healthy; 1 when the check failed (no answer, an unexpected
    status or body) or the health body reports a component down (ClipForge's `database.status`, Terminus's
    `details`: what the pack's *-down-probe rules read). A host named after a container
    (`http://clipforge-api:3000/health`) is reached through Docker."""
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
    resolver = _resolver(config)
    with Waiting(f"{redact_url(url)} to answer (up to {timeout})"):
        event = CheckWatch(config).check(pool_for(config), ProbeMemory(), resolver)
    shown = Redactor().payload(event.to_dict())  # the body is the endpoint's: redacted, on a terminal too
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(probe_table(shown["fields"]["probe"]))
    else:
        sys.stdout.buffer.write(orjson.dumps(shown) + b"\n")
        sys.stdout.flush()
    if not healthy(event.fields["probe"]):
        sys.exit(1)


def probe_table(fields: dict[str, Any]) -> Table:
    """One check as people read it: the verdict, the answer, and each component of the health body."""
    up = healthy(fields)
    # names, URLs and bodies come from outside: Text (no rich markup) and inert (no terminal controls)
    verdict = Text(inert(f"probe {fields['name']}: {'healthy' if up else 'DOWN'}"), "green" if up else "red")
    table = Table(title=verdict, title_justify="left")
    table.add_column("")
    table.add_column("")
    table.add_row("url", Text(inert(fields["url"])))
    answer = f"HTTP {fields['status']}" if "status" in fields else "no answer"
    table.add_row("answer", f"{answer} in {fields['duration_ms']:g} ms")
    if not fields["ok"]:
        table.add_row("failed", Text(inert(f"{fields['error']}: {fields['detail']}"), "red"))
    for component, state in sorted(fields.get("components", {}).items()):
        table.add_row(Text(inert(component)), Text(state, "green" if state == "up" else "bold red"))
    if "uptime" in fields:
        table.add_row("uptime", f"{fields['uptime']:,.0f} s")
    return table


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
