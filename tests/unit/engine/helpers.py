"""Build rule sets from YAML text and events on an explicit clock, for engine tests."""

from __future__ import annotations

from pathlib import Path

from logpipe.engine import Engine, load_rules
from logpipe.engine.rules import RuleSet
from logpipe.event import Event, Origin
from logpipe.incidents.book import IncidentBook
from logpipe.incidents.notification import Notification
from logpipe.pipeline import run_incidents

T0 = 1_795_770_000_000_000_000  # 2026-11-27T09:00:00Z
SECOND = 1_000_000_000
ORIGIN = Origin("docker", "clipforge-api", "stdout", "c0ffee")


def ruleset(tmp_path: Path, text: str, name: str = "rules.yml") -> RuleSet:
    path = tmp_path / name
    path.write_text(text)
    return load_rules([path])


def event(seconds: float, message: str, level: str = "info", logger: str = "", **fields: object) -> Event:
    time = T0 + int(seconds * SECOND)
    return Event(time, level, message, logger, dict(fields), ORIGIN, message, "json", time)


def notify(engine: Engine, events: list[Event], finish: bool = False) -> list[Notification]:
    """What people are told: the engine's alerts through an incident book, on event time. `finish` closes the
    incidents left open at the end, as a replay does."""
    made = list(run_incidents(events, engine, IncidentBook(engine.ruleset)))
    return made if finish else [n for n in made if n.reason != "end of input"]


def run(engine: Engine, events: list[Event]) -> list[tuple[float, str, str, str]]:
    """(seconds since T0, rule, kind, severity) of every notification before the end of input, in order."""
    return [((n.time - T0) / SECOND, n.rule, n.kind, n.severity) for n in notify(engine, events)]


def access(seconds: float, status: int, duration_ms: int = 20) -> Event:
    return event(seconds, f'GET /api/v1/clips {status} {duration_ms}ms - 10b - 10.0.0.1 "x"', logger="HTTP")


HTTP_EXTRACT = """
extract:
  - id: http
    regex: '^(?P<method>[A-Z]+) (?P<path>\\S+) (?P<status>\\d{3}) (?P<duration_ms>\\d+)ms'
    prefix: http
"""
