"""The compiled rule set: rules, extractors and metrics behind one prefilter, immutable, what engines run. Loading
(files, layers, validation) is loading.py's: `load_rules`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from logpipe.engine.conditions import SCANNED, Condition, Need, Pattern, Values, captured_names
from logpipe.engine.extract import Extractor
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.metrics.model import Metric, metric_clients
from logpipe.engine.prefilter import Prefilter
from logpipe.engine.rulefiles import RULE_SUFFIXES, default_rules_dir, rule_files
from logpipe.engine.specs import gated_patterns, need_of
from logpipe.errors import RuleError
from logpipe.event import Event, stack_of

if TYPE_CHECKING:
    from logpipe.engine.layers import RuleEntry

__all__ = ["RULE_SUFFIXES", "LoadedRule", "RuleLoadError", "RuleSet", "default_rules_dir", "rule_files"]


class RuleLoadError(RuleError):
    """One or more rule files are invalid; `errors` has each problem with its location."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = list(errors)
        Exception.__init__(self, "\n".join(str(error) for error in self.errors))
        self.location, self.problem = self.errors[0].location, self.errors[0].problem


@dataclass(frozen=True, slots=True)
class LoadedRule:
    rule: CompiledRule  # a prototype: its conditions and info are shared; its window state is never used
    file: Path
    line: int | None
    new_state: Callable[[], CompiledRule]  # a fresh instance, with empty windows, for each engine


class RuleSet:
    """The compiled rules, immutable: what engines run (each with its own state, from `new_states`) and what
    `rules test/explain` inspect. Also the log-derived metrics' definitions (their values live in a MetricSet)."""

    def __init__(
        self,
        rules: Sequence[LoadedRule],
        extractors: Sequence[Extractor],
        metrics: Sequence[Metric] = (),
        exhaustive: bool = False,
        entries: Sequence[RuleEntry] = (),
    ) -> None:
        """`exhaustive`: no prefilter, every event tried against everything and every regex run; the reference
        that shows the prefilter changes nothing (tests/unit/engine/test_prefilter_exact.py). `entries`: every
        rule the sources define, switched off or not, with where each setting came from (`rules list/show`)."""
        self.loaded = tuple(rules)
        self.entries: dict[str, RuleEntry] = {entry.id: entry for entry in entries}
        self.rules = tuple(loaded.rule for loaded in rules)
        self.extractors = tuple(extractors)
        self.metrics = tuple(metrics)
        # one prefilter for all: extractors are clients 0..k-1 (so they run first), rules k.. after them, metrics
        # after the rules
        requirements = [
            *(self._extractor_need(e) for e in self.extractors),
            *(requirement_of(rule) for rule in self.rules),
            *(need_of(branch, captured_names(branch)) for _, branch in metric_clients(self.metrics)),
        ]
        if exhaustive:
            self.prefilter = Prefilter([None] * len(requirements))
        else:
            self.prefilter = Prefilter(requirements, gated=self._gated_patterns())
        self._first_rule = len(self.extractors)
        self._first_metric = self._first_rule + len(self.rules)  # the metrics' clients: see metric_clients
        # per extractor: the rules and metrics that need a field under a key it fills (http-access-nest fills
        # http.*: the HTTP rules and metrics), tried on an event once the extractor gave it those fields
        by_head = self.prefilter.by_head
        self._filled_for = tuple(
            tuple(sorted({c for head in e.heads for c in by_head.get(head, ()) if c >= self._first_rule}))
            for e in self.extractors
        )
        self.index = {rule.info.id: position for position, rule in enumerate(self.rules)}

    def _extractor_need(self, extractor: Extractor) -> frozenset[Need] | None:
        """What the prefilter needs to see for an extractor: its `when`'s needs (not its own regex: anchored and
        cheap, it would make hyperscan call back into Python on every line it fits, which costs more than running
        it). `when` may read what an earlier extractor fills: no presence need on those keys."""
        if extractor.when is None:
            return None
        filled = frozenset().union(*(e.heads for e in self.extractors))
        return need_of(extractor.when, captured_names(extractor.when) | filled)

    def _gated_patterns(self) -> list[Pattern]:
        """Every text regex in every condition (rules, extractors' `when`, metrics), for the prefilter's scan."""
        conditions: list[Condition] = [c for rule in self.rules for c in rule.conditions.values()]
        conditions += [e.when for e in self.extractors if e.when is not None]
        conditions += [branch for _, branch in metric_clients(self.metrics)]
        return list(dict.fromkeys(pattern for condition in conditions for pattern in gated_patterns(condition)))

    def memory(self) -> int:
        """How far back (ns) rule state reaches: the longest window or sequence, at most an hour. A restarted
        follower re-reads that much before its checkpoint to rebuild windows (incidents and throttles are saved
        with the checkpoints, so they need no re-read)."""
        spans = [
            span
            for rule in self.rules
            for span in (getattr(rule.info.model, "window", None), getattr(rule.info.model, "within", None))
            if span
        ]
        return min(max(spans, default=0), 3_600_000_000_000)

    def new_states(self) -> list[CompiledRule]:
        """Rule instances with empty windows, in rule order: one set per engine."""
        return [loaded.new_state() for loaded in self.loaded]

    def select(self, event: Event) -> tuple[Values, Sequence[int]]:
        """What conditions read besides the event (`text`: message and stack; the extracted fields), and the
        indexes of the rules that could match it."""
        values, rules, _ = self.select_all(event)
        return values, rules

    def select_all(
        self, event: Event, text: str | None = None, found: Sequence[int] | None = None
    ) -> tuple[Values, Sequence[int], Sequence[int]]:
        """`select`, and which metrics could count the event (indexes of `metric_clients(self.metrics)`).
        `text` and `found`: the event's scan text and the patterns in it, when `prescan` scanned it ahead."""
        if text is None:
            text = scan_text(event)
        clients, scanned = self.prefilter.scan(event, text, found)
        values: Values = {"text": text, SCANNED: scanned} if scanned is not None else {"text": text}
        first_rule, first_metric = self._first_rule, self._first_metric
        if not first_rule and not self.metrics:
            return values, clients, ()
        filled: set[int] | None = None
        for client in clients:
            if client >= first_rule:
                break
            if self.extractors[client].apply(event, values) and self._filled_for[client]:
                filled = set(self._filled_for[client]) if filled is None else filled.union(self._filled_for[client])
        if filled is not None:
            clients = sorted(filled.union(clients))
        rules: list[int] = []
        metrics: list[int] = []
        for client in clients:
            if client < first_rule:
                continue
            if client < first_metric:
                rules.append(client - first_rule)
            else:
                metrics.append(client - first_metric)
        return values, rules, metrics

    def prescan(self, events: Sequence[Event]) -> tuple[list[str], list[Sequence[int]]] | None:
        """The scan texts of `events` and the patterns in each, from one prefilter scan of them all (None: the
        prefilter has no patterns), for `select_all(event, text, found)`."""
        texts = [scan_text(event) for event in events]
        found = self.prefilter.scan_texts(texts)
        return (texts, found) if found is not None else None

    def values_for(self, event: Event) -> Values:
        return self.select(event)[0]

    def candidates(self, event: Event) -> Sequence[int]:
        return self.select(event)[1]

    def rule(self, rule_id: str) -> CompiledRule:
        return self.rules[self.index[rule_id]]

    def known_ids(self) -> list[str]:
        """Every rule id the sources define, those switched off included: what silences, maintenance windows and
        `--rule` may name."""
        return list(self.entries) if self.entries else list(self.index)


def scan_text(event: Event) -> str:
    """What the prefilter scans and `text` conditions read: the message, and the stack trace under it."""
    stack = stack_of(event.fields)
    return f"{event.message}\n{stack}" if stack else event.message


def requirement_of(rule: CompiledRule) -> frozenset[Need] | None:
    """The text patterns an event needs for this rule to care about it (None: any event may matter)."""
    conditions = rule.conditions
    # a name its regexes capture is in `values` without being a field: no presence need on it
    captured = frozenset().union(*(captured_names(condition) for condition in conditions.values()))
    if "base" in conditions:  # ratio: every base event counts, matching or not
        return need_of(conditions["base"], captured)
    needs = [need_of(condition, captured) for condition in conditions.values()]
    if any(need is None for need in needs):
        return None
    return frozenset().union(*needs)  # type: ignore[arg-type]
