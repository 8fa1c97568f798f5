"""The fuzz target past parsing: every event of any input, and every notification a catch-all rule makes of it,
through every way out of logpipe (issue 28: no output path raises on an event). Returns the exits reached, so a
long run (bench/fuzz.py) can say how often each was."""

from __future__ import annotations

import functools
import io
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import sentry_sdk.envelope

from logpipe.agent.checkpoints import EventOutput
from logpipe.console.events import event_line
from logpipe.console.printers import ConsolePrinter, JsonLinesPrinter
from logpipe.engine import Engine, load_rules
from logpipe.event import Event, Origin
from logpipe.incidents.book import IncidentBook
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines, run_incidents
from logpipe.redact import Redactor
from logpipe.render import Renderer
from logpipe.sinks.alertmanager import AlertmanagerSink
from logpipe.sinks.pagerduty import pagerduty_event
from logpipe.sinks.sentry import SentrySink
from logpipe.sources.file import read_lines
from logpipe.state import StateStore

ORIGIN = Origin("file", "fuzz.log")
LIMITS = Limits(max_line_bytes=2000, max_group_lines=3, max_group_bytes=4000)
# every event matches; its logger and a field are the group, its message a summary field: what a notification
# carries from the log (group values, summary, samples, stack) is whatever the input had
CATCH_ALL = """
rules:
  - id: every-event
    title: Every event
    runbook: nothing to do, it is a fuzz run
    severity: critical
    match: {message: {exists: true}}
    group_by: [logger, user]
    summary: [message, err.type]
    throttle: 1s
    examples: {match: ['anything']}
"""
EXITS = (
    "event json", "events-out", "table line", "outbox", "jsonl printer", "console printer", "slack", "webhook",
    "email subject", "email text", "email html", "sentry", "alertmanager", "pagerduty",
)  # fmt: skip


class _SentryHere(SentrySink):
    """The real sink, whose envelopes are serialised here instead of posted."""

    def _post(self, envelope: sentry_sdk.envelope.Envelope) -> None:
        envelope.serialize()


class _AlertmanagerHere(AlertmanagerSink):
    def _post(self, alerts: list[dict[str, Any]]) -> None:
        orjson.dumps(alerts)


class _Exits:
    """What the exits need, made once per process (a rule set, a state store, the sinks)."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="logpipe-fuzz-exits-"))
        (self.scratch / "rules.yml").write_text(CATCH_ALL)
        self.ruleset = load_rules([self.scratch / "rules.yml"])
        self.store = StateStore(self.scratch / "state" / "state.db")
        self.store.database.connection.execute("PRAGMA synchronous=OFF")  # a fuzz run, not an outbox: no fsync per case
        self.redactor = Redactor()
        self.renderer = Renderer()
        self.sentry = _SentryHere("https://key@127.0.0.1:9/1", self.renderer)


@functools.cache
def _exits() -> _Exits:
    return _Exits()


def events_reach_every_exit(data: bytes) -> Counter[str]:
    """Any bytes as a saved log: each event written by every event exit, each notification of the catch-all rule
    by every notification exit (what `parse`, `replay`, `follow --events-out` and each sink write). Nothing may
    raise; the JSON exits must write JSON that reads back. Returns how many times each exit was reached."""
    made = _exits()
    reached: Counter[str] = Counter()
    events: list[Event] = list(
        parse_lines(read_lines(io.BytesIO(data), ORIGIN, max_line_bytes=2000), Assembler(limits=LIMITS))
    )
    written = io.BytesIO()
    output = EventOutput(written, made.store)
    for event in events:
        orjson.loads(event.to_json())
        reached["event json"] += 1
        output.write(event)
        reached["events-out"] += 1
        event_line(event, color=True)
        reached["table line"] += 1
    for line in written.getvalue().splitlines():
        orjson.loads(line)
    engine = Engine(made.ruleset)
    alertmanager = _AlertmanagerHere("am", ["http://127.0.0.1:9"])  # it keeps the open alerts: one per case
    for notification in run_incidents(events, engine, IncidentBook(made.ruleset)):
        payload = made.redactor.payload(notification.to_dict())
        made.store.outbox.put(notification.id, payload, ["fuzz"])
        reached["outbox"] += 1
        JsonLinesPrinter(io.BytesIO(), made.redactor).show(notification)
        reached["jsonl printer"] += 1
        ConsolePrinter(io.StringIO(), True, made.redactor, made.renderer).show(notification)
        reached["console printer"] += 1
        for kind in ("slack", "webhook"):
            orjson.loads(made.renderer.render_json(kind, payload))
            reached[kind] += 1
        for kind, exit_name in (("email.subject", "email subject"), ("email.text", "email text"),
                                ("email.html", "email html")):  # fmt: skip
            made.renderer.render(kind, payload)
            reached[exit_name] += 1
        made.sentry.deliver(payload)
        reached["sentry"] += 1
        alertmanager.deliver(payload)
        reached["alertmanager"] += 1
        body = pagerduty_event(payload, "routing-key", "fuzz-host")
        orjson.loads(orjson.dumps(body))
        reached["pagerduty"] += 1
    return reached
