"""The real-world corpus (tests/data/realworld/): log excerpts people pasted into public GitHub issues and docs, one
YAML file per category, each item replayed alone through the default pack the way `logpipe replay` reads a file.

An item of a failure category counts as caught when a rule of that category fires on it (other rules may fire
too: a Postgres error inside an unhandled exception is both); a negative counts as clean when nothing fires.

    .venv/bin/python -m tests.realworld            # the recall per category, and every miss
"""

from __future__ import annotations

import io
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from logpipe.engine import Engine, load_rules
from logpipe.engine.rules import RuleSet
from logpipe.event import Origin
from logpipe.incidents.book import IncidentBook
from logpipe.pipeline import parse_lines, run_incidents
from logpipe.sources.file import read_lines

CORPUS = Path(__file__).parent / "data" / "realworld"
NEGATIVE = "negative"

#: which rules answer for which category, by rule id (a rule's id names its family)
RULE_CATEGORIES: dict[str, str] = {
    "stripe-webhook-signature": "payment-webhook",
    "razorpay-webhook-signature": "payment-webhook",
    "payment-webhook-signature": "payment-webhook",
    "payment-webhook-5xx": "payment-webhook",
    "payment-webhook-failed-other": "payment-webhook",
    "payment-provider-unreachable": "payment-api",
    "payment-api-error": "payment-api",
    "payment-api-failed-other": "payment-api",
    "postgres-connection-error": "postgres",
    "postgres-connection-errors-burst": "postgres",
    "postgres-auth-failed": "postgres",
    "postgres-error-other": "postgres",
    "redis-connection-error": "redis",
    "redis-connection-errors-burst": "redis",
    "redis-refused-write": "redis",
    "redis-error-other": "redis",
    "unhandled-exception": "unhandled-exception",
    "startup-crash": "unhandled-exception",
    "process-crash": "unhandled-exception",
    "credit-deduction-failed": "credit",
    "credit-deduction-insufficient-balance": "credit",
    "credit-deduction-failed-other": "credit",
}


@dataclass(frozen=True)
class Item:
    category: str
    source: str
    text: str
    file: str
    number: int  # 1-based, in its file


@dataclass(frozen=True)
class Outcome:
    item: Item
    fired: frozenset[str]  # rule ids that sent a firing notification

    @property
    def passed(self) -> bool:
        if self.item.category == NEGATIVE:
            return not self.fired
        return any(RULE_CATEGORIES.get(rule) == self.item.category for rule in self.fired)


def load_corpus(directory: Path = CORPUS) -> list[Item]:
    items: list[Item] = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        category = document["category"]
        for number, entry in enumerate(document["items"], 1):
            items.append(Item(category, entry["source"], entry["text"], path.name, number))
    return items


def fired_rules(text: str, pack: RuleSet) -> frozenset[str]:
    """The rules that fire when this excerpt alone is replayed (a file of its lines, as `logpipe replay` reads)."""
    stream = io.BytesIO(text.encode("utf-8") + b"\n")
    events = parse_lines(read_lines(stream, Origin("file", "realworld.log")))
    made = run_incidents(events, Engine(pack), IncidentBook(pack))
    return frozenset(n.rule for n in made if n.kind == "firing")


def replay_all(items: Iterable[Item], pack: RuleSet | None = None) -> list[Outcome]:
    pack = pack or load_rules()
    return [Outcome(item, fired_rules(item.text, pack)) for item in items]


def recall_by_category(outcomes: Iterable[Outcome]) -> dict[str, tuple[int, int]]:
    """category -> (passed, total); for negatives, passed means clean."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        counts[outcome.item.category][0] += outcome.passed
        counts[outcome.item.category][1] += 1
    return {category: (ok, total) for category, (ok, total) in sorted(counts.items())}


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for category, (ok, total) in recall_by_category(outcomes).items():
        what = "clean (no alert)" if category == NEGATIVE else "recall"
        lines.append(f"{category:<20} {what:<17} {ok:>3}/{total:<3} {100 * ok / total:5.1f} %")
    for outcome in outcomes:
        if not outcome.passed:
            first = outcome.item.text.strip().splitlines()[0][:110]
            fired = ", ".join(sorted(outcome.fired)) or "nothing"
            lines.append(f"  miss {outcome.item.file}#{outcome.item.number} (fired {fired}): {first}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(replay_all(load_corpus())))
    sys.exit(0)
