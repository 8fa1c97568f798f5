"""logpipe's exceptions, every one of them (tests/unit/test_errors.py checks this tree against the code). The CLI
turns any LogpipeError into a message and exit code 1, never a traceback; the others are caught where they are
raised for (the four catch boundaries of docs: per line, per rule, per sink, around templates) or by the command
that called.

Exception
├── LogpipeError                                 raised on purpose; the CLI shows it as one line
│   ├── ConfigError                              a configuration or rule file is invalid (file, line, field, what
│   │   │                                        was expected)
│   │   ├── ConfigProblems (config.load)         ... several in one configuration file, each with its line
│   │   └── RuleError                            ... a rule file in particular
│   │       └── RuleLoadError (engine.rules)     ... every problem of the files loaded at once, each located
│   ├── ListenError                              --metrics-address cannot be served
│   └── StateError                               the state directory cannot be used: read-only, full, corrupt, or
│                                                in use by another logpipe
├── BackendUnreachable (fleet.backend)           the fleet's Redis cannot be reached now: local state, degraded
│   └── BackendUncertain (fleet.backend)         ... it did not answer in time: what was asked may be done
├── BadAnswer (fleet.records)                    Redis answered a call with something of the wrong shape
├── ContainerAddressError (sources.probes.http)  a probe's host is a container logpipe cannot reach
├── DeliveryError (sinks.base)                   a sink could not deliver; says whether a retry is worth it
│   └── HttpStatusError (sinks.base)             ... the receiver answered with this HTTP status
├── OutboxFull (state.outbox)                    the outbox holds its maximum of pending deliveries
├── SpecError (engine.conditions)                a rule's condition spec is wrong at a path (located by the loader)
└── TemplateProblem (render.renderer)            a notification template is missing, invalid or renders too much
ValueError
├── CatalogueError (redact.catalogue)            a secret-shape catalogue entry cannot be used
├── DurationTooLong (config.durations)           a duration past its maximum (ten years)
├── PatternRefused (redact.scanner)              hyperscan cannot compile a catalogue pattern
└── RegexRefused (engine.linear)                 a rule regex is invalid or needs backtracking
jinja2.TemplateRuntimeError
└── TemplateLimitError (render.sandbox)          a template crossed a render bound (loops, time, sizes)
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


class ListenError(LogpipeError):
    """`--metrics-address` cannot be served: not HOST:PORT, or the port is taken."""


class StateError(LogpipeError):
    """The state store cannot be opened or written; the message says why and what to do."""


def __getattr__(name: str) -> object:
    if name == "RuleRuntimeError":  # never raised (a rule that raises is disabled and reported): going away
        import warnings

        warnings.warn("logpipe.errors.RuleRuntimeError is never raised and goes away", DeprecationWarning, stacklevel=2)
        return LogpipeError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
