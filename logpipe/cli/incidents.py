"""`logpipe incidents`, `logpipe silence add|list|expire`: the incidents and silences of a follower, read and
written through its state store beside it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
import orjson

from logpipe.cli.options import config_option, config_or_fail
from logpipe.config import Config
from logpipe.engine.durations import format_duration, parse_duration
from logpipe.event import format_time
from logpipe.incidents.silences import Silence
from logpipe.incidents.views import incident_table
from logpipe.redact import Redactor
from logpipe.state import STATE_FILE, StateStore


def _store(config: Config) -> StateStore:
    path = config.state_dir / STATE_FILE
    if not path.exists():
        raise click.ClickException(f"no state store at {path}: has logpipe run with this config?")
    return StateStore(path, exclusive=False)  # beside a running follower, which holds the directory's lock


@click.command()
@config_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per incident.")
def incidents(config_path: Path | None, limit: int, as_json: bool) -> None:
    """Open and recent incidents: rule, group, state, counts, severity, folded or silenced, last notification."""
    store = _store(config_or_fail(config_path))
    records = store.incidents(limit)
    store.close()
    if as_json:
        for record in records:
            click.echo(orjson.dumps(Redactor().payload(record)).decode())
        return
    click.echo(incident_table(records), nl=False)


@click.group()
def silence() -> None:
    """Mute notifications for a while (maintenance): they are recorded, not sent."""


@silence.command(name="add")
@click.option("--rule", required=True, help="A rule id, or '*' for every rule.")
@click.option("--match", "matchers", multiple=True, metavar="FIELD=VALUE", help="Only incidents with this label.")
@click.option("--for", "duration", required=True, help="How long, e.g. 30m, 2h.")
@click.option("--reason", required=True, help="Why: shown wherever the silence is.")
@config_option
def silence_add(rule: str, matchers: tuple[str, ...], duration: str, reason: str, config_path: Path | None) -> None:
    """Silence RULE's notifications (a running follower honours it at once)."""
    try:
        length = parse_duration(duration)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--for") from None
    labels = {}
    for item in matchers:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--match")
        labels[key] = value
    config = config_or_fail(config_path)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    store = StateStore(config.state_dir / STATE_FILE, exclusive=False)  # a running follower holds the lock
    now = time.time_ns()
    made = Silence.new(rule, labels, now, now + length, reason, os.environ.get("USER", ""))
    store.add_silence(made)
    store.close()
    click.echo(f"{made.id}  silenced {made.describe()} until {format_time(made.ends)[:19]}Z")


@silence.command(name="list")
@config_option
@click.option("--all", "show_all", is_flag=True, help="Expired silences too.")
def silence_list(config_path: Path | None, show_all: bool) -> None:
    """Silences in force (or all)."""
    store = _store(config_or_fail(config_path))
    now = time.time_ns()
    found = store.silences(None if show_all else now)
    store.close()
    if not found:
        click.echo("no silences")
        return
    for item in found:
        state = "active" if item.active(now) else ("pending" if item.starts > now else "expired")
        left = format_duration(item.ends - now) + " left" if item.ends > now else "ended"
        matched = ",".join(f"{k}={v}" for k, v in item.matchers) or "-"
        click.echo(f"{item.id}  {state:<8} {item.rule:<32} {matched:<24} {left:<12} {item.reason}")


@silence.command(name="expire")
@click.argument("silence_id")
@config_option
def silence_expire(silence_id: str, config_path: Path | None) -> None:
    """End a silence now."""
    store = _store(config_or_fail(config_path))
    ended = store.expire_silence(silence_id, time.time_ns())
    store.close()
    if not ended:
        raise click.ClickException(f"no silence {silence_id!r} in force (logpipe silence list)")
    click.echo(f"expired {silence_id}")
