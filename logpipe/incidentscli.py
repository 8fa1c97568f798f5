"""`logpipe incidents`, `logpipe silence add|list|expire`, `logpipe reload`: operate the incidents of a running
follower through its state store (and its pid file, for reload)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import orjson

from logpipe.config import Config
from logpipe.engine.durations import format_duration, parse_duration
from logpipe.event import format_time
from logpipe.incidents.silences import Silence, SilenceList
from logpipe.inert import inert
from logpipe.redact import Redactor
from logpipe.state import STATE_FILE, StateStore

PID_FILE = "follow.pid"


def silences_for(config: Config, store: StateStore | None) -> SilenceList:
    """The silences in the store that have not ended, and the config's maintenance windows."""
    silences = store.silences(time.time_ns()) if store is not None else []
    return SilenceList(silences, [window.window() for window in config.maintenance])


def incident_table(records: Sequence[dict[str, Any]]) -> str:
    """One line per incident: what the replay's summary and `logpipe incidents` print."""
    if not records:
        return "no incidents\n"
    header = f"{'rule':<36} {'state':<9} {'severity':<8} {'total':>6} {'opened':<20} {'last notification':<24} group"
    lines = [header]
    for record in records:
        state = "closed" if record["closed"] is not None else ("flapping" if record["flapping"] else "open")
        if record["folded_into"] and record["closed"] is None:
            state = "folded"
        last = f"{record['last_kind'] or '-'}: {record['last_outcome'] or '-'}"
        # group values come from logs (messages, captures): redacted, and inert on a terminal
        group = inert(Redactor().text(",".join(f"{k}={v}" for k, v in record["group"]))) or "-"
        lines.append(
            f"{record['rule']:<36} {state:<9} {record['severity']:<8} {_total(record):>6} "
            f"{format_time(record['opened'])[:19]:<20} {last[:24]:<24} {group}"
        )
        if record["symptoms"]:
            folded = ", ".join(f"{count} x {rule}" for rule, (_, count, _) in sorted(record["symptoms"].items()))
            lines.append(f"{'':<36}   symptoms folded in: {folded}")
    return "\n".join(lines) + "\n"


def _total(record: dict[str, Any]) -> int:
    return int(record["total"] if record["counted"] else record["count"])


def _store(config: Config) -> StateStore:
    path = config.state_dir / STATE_FILE
    if not path.exists():
        raise click.ClickException(f"no state store at {path}: has logpipe run with this config?")
    return StateStore(path, exclusive=False)  # beside a running follower, which holds the directory's lock


def register(main: click.Group) -> None:
    from logpipe.cli import config_option, config_or_fail

    @main.command()
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

    @main.group()
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

    @main.command()
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
