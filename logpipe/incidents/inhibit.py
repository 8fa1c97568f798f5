"""Inhibition: an open cause folds in its symptoms (Alertmanager's inhibit rules). A rule's `inhibits:` names the
rules it folds, `when` (on the symptom's triggering event) and the labels that must be `equal`; while the cause is
open and notified, a symptom's matches are tallied on it and listed by its next notification, and Sentry gets the
symptom as a breadcrumb on the cause's trail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from logpipe.engine.conditions import Condition
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.rules import RuleSet
from logpipe.engine.specs import compile_condition
from logpipe.event import Event
from logpipe.incidents.incident import Incident
from logpipe.incidents.notification import Notification, symptom_breadcrumb


@dataclass(frozen=True, slots=True)
class Inhibition:
    cause: str  # the rule whose open incidents fold in the symptom
    target: str
    when: Condition | None  # on the symptom's triggering event
    equal: tuple[str, ...]


def inhibitions_of(rules: tuple[CompiledRule, ...]) -> dict[str, list[Inhibition]]:
    """target rule id -> the inhibitions that may fold it (validated at load: targets exist)."""
    found: dict[str, list[Inhibition]] = {}
    for rule in rules:
        for index, item in enumerate(rule.info.model.inhibits):
            when = compile_condition(item.when, ("inhibits", index, "when")) if item.when is not None else None
            found.setdefault(item.rule, []).append(Inhibition(rule.info.id, item.rule, when, tuple(item.equal)))
    return found


def find_cause(
    inhibitions: Iterable[Inhibition],
    symptom: Incident,
    event: Event | None,
    open_incidents: Iterable[Incident],
    ruleset: RuleSet,
) -> Incident | None:
    """An open, notified cause that folds this incident in: a rule inhibiting it, its `when` holding on the
    symptom's triggering event, the `equal` labels the same on both."""
    candidates = list(open_incidents)
    for inhibition in inhibitions:
        if inhibition.when is not None:
            if event is None:
                continue
            values = dict(ruleset.values_for(event))
            values.update(symptom.data)
            if not inhibition.when.test(event, values):
                continue
        for cause in candidates:
            if cause.rule != inhibition.cause or cause.closed is not None or cause.folded_into is not None:
                continue
            if cause.started and all(cause.labels.get(k) == symptom.labels.get(k) for k in inhibition.equal):
                return cause
    return None


def fold(symptom: Incident, cause: Incident, title: str, now: int, message: str, event: Event | None) -> Notification:
    """The symptom is reported through its cause: its matches so far tallied there, and the breadcrumb Sentry gets
    on the cause's trail. (The caller records both as changed.)"""
    symptom.folded_into = cause.id
    symptom.last_outcome = f"folded into {cause.rule}"
    tally(cause, symptom, title, symptom.total if symptom.counted else symptom.count, message, replace=True)
    symptom.seq += 1
    return symptom_breadcrumb(symptom, title, cause, now, message, event)


def tally(cause: Incident, symptom: Incident, title: str, count: int, detail: str, replace: bool = False) -> None:
    """Count a symptom's matches on its cause (all of them so far with `replace`), with the latest detail."""
    counted = cause.symptoms.setdefault(symptom.rule, [title, 0, ""])
    counted[1] = count if replace else counted[1] + count
    counted[2] = detail.split("\n", 1)[0][:160]
    cause.symptoms_new = True
