"""The rule engine: rule files -> RuleSet (rules.py) -> Engine (engine.py) -> Alerts."""

from logpipe.engine.engine import Engine
from logpipe.engine.loading import load_rules
from logpipe.engine.rules import RuleLoadError, RuleSet, default_rules_dir

__all__ = ["Engine", "RuleLoadError", "RuleSet", "default_rules_dir", "load_rules"]
