"""The compiled rule of a validated rule model: its kind chosen by the model's type."""

from __future__ import annotations

from logpipe.engine.conditions import Condition
from logpipe.engine.kinds.absence import AbsenceRule
from logpipe.engine.kinds.aggregate import AggregateRule
from logpipe.engine.kinds.base import CompiledRule, RuleInfo
from logpipe.engine.kinds.every import EveryRule
from logpipe.engine.kinds.ratio import RatioRule
from logpipe.engine.kinds.sequence import SequenceRule
from logpipe.engine.kinds.threshold import ThresholdRule
from logpipe.engine.schema import AbsenceModel, AggregateModel, AnyRule, EveryModel, RatioModel, ThresholdModel


def build_kind(
    info: RuleInfo, model: AnyRule, match: Condition, base: Condition | None, then: Condition | None
) -> CompiledRule:
    """The kind object for a validated rule (the schema has checked each kind's settings: one model per kind)."""
    if isinstance(model, EveryModel):
        return EveryRule(info, match)
    if isinstance(model, ThresholdModel):
        return ThresholdRule(info, match, model.count, model.window)
    if isinstance(model, RatioModel):
        assert base is not None  # the schema requires it
        return RatioRule(info, match, base, model.window, model.evaluate_every, _levels(model), model.min_base)
    if isinstance(model, AggregateModel):
        return AggregateRule(
            info, match, model.value, model.function, model.window, model.evaluate_every, _levels(model),
            model.min_count,
        )  # fmt: skip
    if isinstance(model, AbsenceModel):
        return AbsenceRule(info, match, model.window, model.min_count)
    assert then is not None  # the schema requires it
    return SequenceRule(info, match, then, tuple(model.key), model.within)


def _levels(model: RatioModel | AggregateModel) -> tuple[tuple[float, str], ...]:
    """(limit, severity), highest first (the schema checked that they make sense)."""
    if model.above is not None:
        return ((model.above, model.severity),)
    assert model.thresholds is not None
    return tuple(
        (float(limit), name)
        for name, limit in (("critical", model.thresholds.critical), ("warning", model.thresholds.warning))
        if limit is not None
    )
