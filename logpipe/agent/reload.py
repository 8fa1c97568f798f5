"""A reload (SIGHUP, `logpipe reload`): the config and the rules read again and the config's probes applied, or,
when anything in them is wrong, the whole reload refused with each problem logged at its file:line (the running
set stays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from logpipe.agent.monitors import Monitors
from logpipe.config import Config, load_config
from logpipe.engine import RuleLoadError, RuleSet, load_rules
from logpipe.errors import ConfigError
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.outputs import router_for
from logpipe.sinks.outbox import Router

log = structlog.get_logger("logpipe.reload")


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What a reload brings: the rules, the config's maintenance windows and routes, and the config itself (its
    probes already applied to the monitors)."""

    ruleset: RuleSet
    maintenance: Sequence[MaintenanceWindow]
    route: Router
    config: Config | None = None


class Reloader:
    """Reads the config and rules again from where `logpipe follow` first read them."""

    def __init__(self, config_path: Path | None, rule_paths: Sequence[Path], monitors: Monitors | None) -> None:
        self.config_path, self.rule_paths, self.monitors = config_path, list(rule_paths), monitors

    def __call__(self) -> Reloaded | None:
        try:
            fresh = load_config(self.config_path)
            ruleset = load_rules(self.rule_paths or fresh.rules or None)
        except (ConfigError, RuleLoadError) as error:
            for problem in getattr(error, "errors", [error]):
                log.error("reload refused; the running rules stay", problem=str(problem))
            return None
        if self.monitors is not None:
            try:
                self.monitors.reload(fresh, self.config_path)
            except ConfigError as error:  # a probe host no longer found refuses the reload, as a broken rule does
                log.error("reload refused; the running rules stay", problem=str(error))
                return None
        return Reloaded(ruleset, [window.window() for window in fresh.maintenance], router_for(fresh), fresh)
