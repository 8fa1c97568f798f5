"""`logpipe incidents`, `logpipe silence add|list|expire`: the incidents and silences of a follower, read and
written through its state store beside it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
import orjson

from logpipe.cli.options import config_option, config_or_fail, load_or_fail, output_option, rules_option
from logpipe.cli.params import DurationParam, complete_rule_ids
from logpipe.config.durations import format_duration
from logpipe.config.settings import Config
from logpipe.event import format_time
from logpipe.incidents.silences import Silence
from logpipe.incidents.views import incident_table, shown
from logpipe.state.directory import STATE_FILE
from logpipe.state.store import StateStore


def _store(config: Config) -> StateStore:
    store = StateStore.find_beside(config.state_dir)
    if store is None:
        raise click.ClickException(
            f"no state store at {config.state_dir / STATE_FILE}: has logpipe run with this config?"
        )
    return store


@click.command()
@config_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@output_option
@click.option("--json", "as_json", is_flag=True, help="The same as -o json (the older spelling).")
def incidents(config_path: Path | None, limit: int, output: str, as_json: bool) -> None:
    """Open and recent incidents: rule, group, state, counts, severity, folded or silenced, last notification."""
    store = _store(config_or_fail(config_path))
    records = shown(store.progress.incidents(limit))
    store.close()
    if as_json or output == "json":
        for record in records:
            click.echo(orjson.dumps(record).decode())
        return
    click.echo(incident_table(records), nl=False)


@click.group()
def silence() -> None:
    """Mute notifications for a while (maintenance): they are recorded, not sent."""


@silence.command(name="add")
@click.option("--rule", required=True, help="A rule id, or '*' for every rule.", shell_complete=complete_rule_ids)
@click.option("--match", "matchers", multiple=True, metavar="FIELD=VALUE", help="Only incidents with this label.")
@click.option("--for", "duration", required=True, type=DurationParam(None), help="How long, e.g. 30m, 2h.")
@click.option("--reason", required=True, help="Why: shown wherever the silence is.")
@click.option("--force", is_flag=True, help="Add it even if it names no loaded rule or no incident could match it.")
@rules_option
@config_option
def silence_add(
    rule: str, matchers: tuple[str, ...], duration: float, reason: str, force: bool, rule_paths: tuple[Path, ...],
    config_path: Path | None,
) -> None:  # fmt: skip
    """Silence RULE's notifications (a running follower honours it at once). RULE must name a rule of the rules
    loaded (--rules, else the config's, else the pack) and the --match labels ones its incidents can carry: a
    silence that matches nothing would mute nothing (--force adds it anyway)."""
    from logpipe.incidents.rulenames import silence_problem

    length = int(duration * 1e9)
    labels = {}
    for item in matchers:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--match")
        labels[key] = value
    config = config_or_fail(config_path)
    problem = silence_problem(rule, labels, load_or_fail(rule_paths or tuple(config.rules)))
    if problem and not force:
        raise click.BadParameter(f"{problem}: this silence would mute nothing (--force to add it anyway)",
                                 param_hint="--rule" if problem.startswith("no rule") else "--match")  # fmt: skip
    store = StateStore.beside(config.state_dir)
    now = time.time_ns()
    made = Silence.new(rule, labels, now, now + length, reason, os.environ.get("USER", ""))
    store.records.add_silence(made)
    store.close()
    click.echo(f"{made.id}  silenced {made.describe()} until {format_time(made.ends)[:19]}Z")


@silence.command(name="list")
@config_option
@click.option("--all", "show_all", is_flag=True, help="Expired silences too.")
@output_option
def silence_list(config_path: Path | None, show_all: bool, output: str) -> None:
    """Silences in force (or all)."""
    store = _store(config_or_fail(config_path))
    now = time.time_ns()
    found = store.records.silences(None if show_all else now)
    store.close()
    if not found and output == "table":
        click.echo("no silences")
        return
    for item in found:
        state = "active" if item.active(now) else ("pending" if item.starts > now else "expired")
        if output == "json":
            record = {
                "id": item.id,
                "state": state,
                "rule": item.rule,
                "match": dict(item.matchers),
                "starts": format_time(item.starts),
                "ends": format_time(item.ends),
                "reason": item.reason,
            }
            click.echo(orjson.dumps(record).decode())
            continue
        left = format_duration(item.ends - now) + " left" if item.ends > now else "ended"
        matched = ",".join(f"{k}={v}" for k, v in item.matchers) or "-"
        click.echo(f"{item.id}  {state:<8} {item.rule:<32} {matched:<24} {left:<12} {item.reason}")


@silence.command(name="expire")
@click.argument("silence_id")
@config_option
def silence_expire(silence_id: str, config_path: Path | None) -> None:
    """End a silence now."""
    store = _store(config_or_fail(config_path))
    ended = store.records.expire_silence(silence_id, time.time_ns())
    store.close()
    if not ended:
        raise click.ClickException(f"no silence {silence_id!r} in force (logpipe silence list)")
    click.echo(f"expired {silence_id}")
