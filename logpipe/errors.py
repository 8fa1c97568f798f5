"""logpipe's exceptions. The CLI turns any LogpipeError into a message and exit code 1, never a traceback.

LogpipeError
├── ConfigError          a configuration or rule file is invalid (file, line, field, what was expected)
│   └── RuleError        ... a rule file in particular
├── RuleRuntimeError     a rule raised while matching; it is disabled and reported, the pipeline goes on
└── StateError           the state directory cannot be used: read-only, full, corrupt, or in use by another logpipe
"""

from __future__ import annotations

from dataclasses import dataclass


class LogpipeError(Exception):
    """Base of every error logpipe raises on purpose."""


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    path: str = ""  # the field, dotted: rules[2].match.any[0].message

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}" if self.path else where


class ConfigError(LogpipeError):
    def __init__(self, location: Location, problem: str) -> None:
        super().__init__(f"{location}: {problem}")
        self.location, self.problem = location, problem


class RuleError(ConfigError):
    pass


class RuleRuntimeError(LogpipeError):
    pass


class ListenError(LogpipeError):
    """`--metrics-address` cannot be served: not HOST:PORT, or the port is taken."""


class StateError(LogpipeError):
    """The state store cannot be opened or written; the message says why and what to do."""
