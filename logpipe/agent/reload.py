"""A reload (SIGHUP, `logpipe reload`): the config and the rules read again and the config's probes applied, or,
when anything in them is wrong, the whole reload refused with each problem logged at its file:line (the running
set stays). The reload is a boundary: whatever it raises refuses it, never stops the follower. Settings a reload
cannot apply (where the state lives, the channels...) are named in the log as needing a restart, not ignored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from logpipe.agent.monitors import Monitors
from logpipe.config.load import load_config
from logpipe.config.settings import Config
from logpipe.engine import RuleLoadError, RuleSet, load_rules
from logpipe.errors import ConfigError
from logpipe.incidents.rulenames import refuse_unknown_names
from logpipe.incidents.silences import MaintenanceWindow
from logpipe.sinks.dispatcher import Router
from logpipe.sinks.wiring import router_for

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


class Reloader:
    """Reads the config and rules again from where `logpipe follow` first read them."""

    def __init__(
        self,
        config_path: Path | None,
        rule_paths: Sequence[Path],
        monitors: Monitors | None,
        running: Config | None = None,
    ) -> None:
        """`running`: the config the follower started with (what a reload cannot change is compared with it)."""
        self.config_path, self.rule_paths, self.monitors = config_path, list(rule_paths), monitors
        self.running = running

    def __call__(self) -> Reloaded | None:
        try:
            return self._reload()
        except Exception:  # the reload's boundary: a running follower is never stopped by what it re-reads
            log.exception("reload refused (an error logpipe did not foresee: a bug); the running rules stay")
            return None

    def _reload(self) -> Reloaded | None:
        try:
            fresh = load_config(self.config_path)
            ruleset = load_rules(self.rule_paths or fresh.rules or None)
            refuse_unknown_names(fresh, self.config_path, ruleset)  # a maintenance window naming no rule mutes nothing
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
        if self.running is not None:
            restart = [name for name in RESTART_ONLY if getattr(fresh, name) != getattr(self.running, name)]
            if restart:
                log.warning("reloaded, but these settings need a restart to take effect; the running follower "
                            "keeps its own", settings=restart)  # fmt: skip
        return Reloaded(ruleset, [window.window() for window in fresh.maintenance], router_for(fresh), fresh)
