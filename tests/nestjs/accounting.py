"""What logpipe made of the app's output, per category of the pack: how many of its events a rule of each
category matches (a failure cut into three events counts three times), and the incidents that page."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from logpipe.engine import load_rules
from logpipe.engine.examples import holds
from logpipe.event import Event, Origin
from tests.realworld import RULE_CATEGORIES

PAGED_SEVERITIES = ("warning", "critical")  # what channels get without routes: info is a notice, not a page


def event_of(record: dict[str, Any]) -> Event:
    """An event of `--events-out` back as the engine sees it (its time is not needed to match)."""
    return Event(
        0,
        record["level"],
        record["message"],
        record.get("logger", ""),
        record["fields"],
        Origin(**record["origin"]),
        record["raw"],
        record["parser"],
        lines=record.get("lines", 1),
    )


def events_of(path: Path) -> list[Event]:
    return [event_of(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def categories_counted(events: list[Event]) -> Counter[str]:
    """Per category, the events that a rule of the category matches (each event once per category)."""
    pack = load_rules()
    indexes = [
        (index, RULE_CATEGORIES[rule.info.id])
        for index, rule in enumerate(pack.rules)
        if rule.info.id in RULE_CATEGORIES
    ]
    counted: Counter[str] = Counter()
    for event in events:
        values = pack.values_for(event)
        counted.update({category for index, category in indexes if holds(pack, index, event, values)})
    return counted


def incidents(config: Path) -> list[dict[str, Any]]:
    """`logpipe incidents --json`: every incident of the run, as the state store keeps it."""
    command = [sys.executable, "-m", "logpipe", "incidents", "--json", "--limit", "1000", "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True, cwd=config.parent)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def pending(records: list[dict[str, Any]]) -> list[str]:
    """Incidents whose first notification is still waiting (group_wait): not yet a page, nor folded."""
    return [r["rule"] for r in records if not r["started"] and r["folded_into"] is None and r["closed"] is None]


def pages(records: list[dict[str, Any]]) -> Counter[str]:
    """Pages per category (a rule outside the categories under its own id): incidents of warning or critical
    that notified, or will, as themselves (not folded into a cause, not silenced)."""
    paged: Counter[str] = Counter()
    for record in records:
        if record["severity"] in PAGED_SEVERITIES and record["folded_into"] is None and record["started"]:
            paged[RULE_CATEGORIES.get(record["rule"], record["rule"])] += 1
    return paged
