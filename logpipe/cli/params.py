"""Parameter types the commands share, each one way everywhere: a rule source (`pack:clipforge` or a path), a
duration (`30s`, `5m`, `2h`; a bare number keeps the option's old unit), and what the shell completes (rule ids,
container names). Completion is click's: `eval "$(_LOGPIPE_COMPLETE=bash_source logpipe)"` (README, Usage)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from logpipe.config.durations import MAX_DURATION, MAX_SHOWN, DurationTooLong, parse_duration

_UNIT_NS = {"s": 1_000_000_000, "h": 3_600_000_000_000}
_ZERO = re.compile(r"0+(?:\.0*)?(?:ms|s|m|h|d)")


class RuleSourceParam(click.ParamType[Path]):
    """`pack:NAME` (a pack shipped with logpipe), or a rule file or directory that exists."""

    name = "source"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        from logpipe.engine.rulefiles import rule_source

        if isinstance(value, Path):
            return value
        try:
            path = rule_source(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if not path.exists():
            self.fail(f"{value}: no such file or directory (or pack:NAME, e.g. pack:clipforge)", param, ctx)
        return path

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from logpipe.engine.rulefiles import PACK_PREFIX, PACKS

        packs = [CompletionItem(PACK_PREFIX + name) for name in PACKS if (PACK_PREFIX + name).startswith(incomplete)]
        return [*packs, CompletionItem(incomplete, type="file")]


class DurationParam(click.ParamType[float]):
    """`30s`, `5m`, `2h`, `1d`, as a number of `unit` (seconds or hours); a bare number is already in `unit`, as
    the option always read it (seconds when `unit` is None, where a bare number is refused)."""

    name = "duration"

    def __init__(self, unit: str | None = "s") -> None:
        self.unit = unit  # None: a bare number is refused, as the option always refused it (`--for 30`: what?)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self._at_most(float(value), param, ctx)
        text = str(value).strip()
        if self.unit is not None:
            try:
                return self._at_most(float(text), param, ctx)
            except ValueError:
                pass
        if _ZERO.fullmatch(text):
            return 0.0  # `--wait 0s`: no waiting (a rule's window, unlike an option, is never zero)
        try:
            return parse_duration(text) / _UNIT_NS[self.unit or "s"]
        except DurationTooLong as error:
            self.fail(str(error), param, ctx)
        except ValueError:
            bare = {"s": " (or a number of seconds)", "h": " (or a number of hours)"}.get(self.unit or "", "")
            self.fail(f"expected a duration like 30s, 5m or 2h{bare}, got {text!r}", param, ctx)

    def _at_most(self, number: float, param: click.Parameter | None, ctx: click.Context | None) -> float:
        """A bare number (in `unit`) within MAX_DURATION, as a duration with its unit is (`--wait 1e300`: a wait
        no clock can hold)."""
        if not 0 <= number * _UNIT_NS[self.unit or "s"] <= MAX_DURATION:
            self.fail(f"a duration is from 0 to at most {MAX_SHOWN}, got {number:g}", param, ctx)
        return number


def complete_rule_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The ids of the rules the command would load (its --rules, else its --config's `rules:`, else the pack),
    read from the YAML without compiling anything: completion must answer at once."""
    from logpipe.engine.rulefiles import default_rules_dir, rule_ids_in

    sources = list(ctx.params.get("rule_paths") or ())
    if not sources and ctx.params.get("config_path"):
        from logpipe.config.load import load_config
        from logpipe.errors import LogpipeError

        try:
            sources = list(load_config(ctx.params["config_path"]).rules)
        except LogpipeError:  # a broken config completes nothing; the command itself will say why
            sources = []
    ids = rule_ids_in(sources or [default_rules_dir()])
    return [CompletionItem(rule_id) for rule_id in sorted(ids) if rule_id.startswith(incomplete)] + (
        [CompletionItem("*", help="every rule")] if "*".startswith(incomplete) and param.name == "rule" else []
    )


def complete_container_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The names of the Docker daemon's containers (running or not) and Compose services."""
    import docker

    try:
        client = docker.from_env(timeout=3)
        found: set[str] = set()
        for container in client.containers.list(all=True):
            found.add(container.name)
            service = container.labels.get("com.docker.compose.service")
            if service:
                found.add(service)
        client.close()
    except (docker.errors.DockerException, OSError):  # no daemon, no permission: nothing to complete
        return []
    return [CompletionItem(name) for name in sorted(found) if name.startswith(incomplete)]
