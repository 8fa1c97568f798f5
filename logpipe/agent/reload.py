"""A reload (SIGHUP, `logpipe reload`): the config and the rules read again and the config's probes applied, or,
when anything in them is wrong, the whole reload refused with each problem logged at its file:line (the running
set stays). Either way the outcome is told: to `logpipe reload`, which waits for it (reloadanswer.py), to
Prometheus (logpipe_reload_success and logpipe_reload_last_success_timestamp_seconds, as Prometheus's own
config reload gauges) and to /health. The reload is a boundary: whatever it raises refuses it, never stops the
follower. Settings a reload cannot apply (where the state lives, the channels...) are named in the log as needing a
restart, not ignored."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog

from logpipe.agent.monitors import Monitors
from logpipe.agent.reloadanswer import ReloadAnswer, write_answer
from logpipe.config.load import load_config
from logpipe.config.settings import Config
from logpipe.engine import RuleLoadError, RuleSet, load_rules
from logpipe.errors import ConfigError, StateError
from logpipe.incidents.rulenames import refuse_unknown_names
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.sinks.dispatcher import Router
from logpipe.sinks.wiring import router_for
from logpipe.telemetry import Telemetry

log = structlog.get_logger("logpipe.reload")
#: what a reload does not apply (it applies the rules, templates, routes, maintenance windows and probes)
RESTART_ONLY = ("state_dir", "state", "channels", "sentry", "outbox", "resources", "report", "templates")


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What a reload brings: the rules, the config's maintenance windows and routes, and the config itself (its
    probes already applied to the monitors)."""

    ruleset: RuleSet
    maintenance: Sequence[MaintenanceWindow]
    route: Router
    config: Config | None = None
    began: int = 0  # CLOCK_MONOTONIC (ns) when the files were read


class Reload(Protocol):
    """What the follower calls on SIGHUP: the new set (None when refused), and `taken` once it runs."""

    def __call__(self) -> Reloaded | None: ...

    def taken(self, reloaded: Reloaded) -> None: ...


class Reloader:
    """Reads the config and rules again from where `logpipe follow` first read them, and tells the outcome (to
    `state_dir`'s answer file and `telemetry`, when given)."""

    def __init__(
        self,
        config_path: Path | None,
        rule_paths: Sequence[Path],
        monitors: Monitors | None,
        running: Config | None = None,
        telemetry: Telemetry | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """`running`: the config the follower started with (what a reload cannot change is compared with it)."""
        self.config_path, self.rule_paths, self.monitors = config_path, list(rule_paths), monitors
        self.running, self.telemetry, self.state_dir = running, telemetry, state_dir

    def __call__(self) -> Reloaded | None:
        began = time.monotonic_ns()  # before any file is read: this reload answers every request sent until now
        try:
            return self._reload(began)
        except Exception as error:  # the reload's boundary: a running follower is never stopped by what it re-reads
            log.exception("reload refused (an error logpipe did not foresee: a bug); the running rules stay")
            self._tell(ReloadAnswer(os.getpid(), began, time.time_ns(), False, (f"internal error (a bug): {error!r}",)))
            return None

    def _reload(self, began: int) -> Reloaded | None:
        try:
            fresh = load_config(self.config_path)
            ruleset = load_rules(self.rule_paths or fresh.rules or None)
            refuse_unknown_names(fresh, self.config_path, ruleset)  # a maintenance window naming no rule mutes nothing
        except (ConfigError, RuleLoadError) as error:
            self._refused(began, [str(problem) for problem in getattr(error, "errors", [error])])
            return None
        if self.monitors is not None:
            try:
                self.monitors.reload(fresh, self.config_path)
            except ConfigError as error:  # a probe host no longer found refuses the reload, as a broken rule does
                self._refused(began, [str(error)])
                return None
        if self.running is not None:
            restart = [name for name in RESTART_ONLY if getattr(fresh, name) != getattr(self.running, name)]
            if restart:
                log.warning("reloaded, but these settings need a restart to take effect; the running follower "
                            "keeps its own", settings=restart)  # fmt: skip
        windows = [window.window() for window in fresh.maintenance]
        return Reloaded(ruleset, windows, router_for(fresh), fresh, began)

    def taken(self, reloaded: Reloaded) -> None:
        """The new set runs (the follower swapped it in): say so."""
        answer = ReloadAnswer(
            os.getpid(), reloaded.began, time.time_ns(), True, (), len(reloaded.ruleset.rules),
            len(reloaded.maintenance),
        )  # fmt: skip
        self._tell(answer)

    def _refused(self, began: int, problems: list[str]) -> None:
        for problem in problems:
            log.error("reload refused; the running rules stay", problem=problem)
        self._tell(ReloadAnswer(os.getpid(), began, time.time_ns(), False, tuple(problems)))

    def _tell(self, answer: ReloadAnswer) -> None:
        if self.telemetry is not None:
            self.telemetry.reloaded(answer.taken, answer.at, list(answer.problems))
        if self.state_dir is not None:
            try:
                write_answer(self.state_dir, answer)
            except (OSError, StateError) as error:  # the outcome is logged and on /metrics; `logpipe reload` times out
                log.error("cannot write the reload's answer", path=str(self.state_dir), error=str(error))
