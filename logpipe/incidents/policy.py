"""How a rule's incidents behave, read once from its model: counted (every, threshold, sequence: each match
counts) or stateful (ratio, aggregate, absence: a level at each evaluation), and the timers of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logpipe.engine.conditions import Getter, Values, field_getter
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.schema import SequenceModel, _Counted, _Leveled, _Windowed
from logpipe.event import Event

TICK = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Policy:
    rule: str
    counted: bool
    throttle: int
    resolve_after: int
    pending: int  # `for`
    keep_firing_for: int
    repeat_interval: int
    flap_changes: int
    flap_span: int  # the last `evaluations` evaluations, as a span of event time
    summary: tuple[tuple[str, Getter], ...]
    group_wait: int


def policy_of(rule: CompiledRule) -> Policy:
    model = rule.info.model
    summary = [*model.summary] or ([*model.key] if isinstance(model, SequenceModel) else [])
    getters = tuple((name.split("|", 1)[0], first_present(name)) for name in summary)
    if isinstance(model, _Windowed):
        every = model.evaluate_every if isinstance(model, _Leveled) else TICK
        return Policy(
            rule=model.id,
            counted=False,
            throttle=model.throttle,
            resolve_after=0,
            pending=model.pending or 0,
            keep_firing_for=model.keep_firing_for,
            repeat_interval=model.repeat_interval,
            flap_changes=model.flapping.changes,
            flap_span=model.flapping.evaluations * every,
            summary=getters,
            group_wait=model.group_wait or 0,
        )
    assert isinstance(model, _Counted)
    return Policy(
        rule=model.id,
        counted=True,
        throttle=model.throttle,
        resolve_after=model.resolve_after or model.throttle,
        pending=0,
        keep_firing_for=0,
        repeat_interval=model.repeat_interval,
        flap_changes=0,
        flap_span=0,
        summary=getters,
        group_wait=model.group_wait or 0,
    )


def first_present(spec: str) -> Getter:
    """A summary field's getter: `ctx.user|userId` reads the first of its alternatives that is present."""
    getters = [field_getter(name.strip()) for name in spec.split("|")]
    if len(getters) == 1:
        return getters[0]

    def get(event: Event, values: Values) -> Any:
        for getter in getters:
            value = getter(event, values)
            if value is not None:
                return value
        return None

    return get
