"""Rule kinds: what a rule sees in the events that match, and when.

Each kind has `observe(event, values)` for an event the prefilter let through, and `tick(now)` for the watermark
moving on (event time, or the wall clock when streams are idle). Both return Alerts: what the rule saw, not what
people are told (the incident book decides that). Counted kinds (every, threshold, sequence) report matches, each
exactly once (`count`). Windowed kinds (ratio, aggregate, absence) report, at each evaluation and for each group
with enough data, the level the value reached (`firing` with a severity) or that it is clear (`resolved`): level,
not edge, so a restarted follower's incidents and the rebuilt windows agree at the next evaluation.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from logpipe.alert import Alert, alert_id
from logpipe.engine.conditions import PRIVATE_KEYS, Condition, Values, cheap_part, field_getter
from logpipe.engine.durations import format_duration
from logpipe.engine.schema import (
    AbsenceModel,
    AggregateModel,
    AnyRule,
    EveryModel,
    RatioModel,
    ThresholdModel,
)
from logpipe.engine.windows import BucketCounts, BucketValues, SlidingTimes
from logpipe.event import Event, format_time

MAX_SAMPLES = 3
MAX_GROUPS = 10_000
GROUP_LIMIT_RULE = "logpipe.group-limit"
Group = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What every kind knows of its rule: identity, texts for people, grouping, where it was defined."""

    id: str
    title: str
    severity: str
    description: str
    runbook: str
    actions: tuple[str, ...]
    group_by: tuple[str, ...]
    source: str  # file:line
    sentry: str | None  # event | breadcrumb | off; None: by the alert's severity
    fingerprint: tuple[str, ...]
    template: str | None
    model: AnyRule = field(repr=False, compare=False)


class CompiledRule:
    """Shared plumbing; subclasses implement observe and tick."""

    kind = "every"
    #: an event its match does not hold for changes nothing (observe returns [] first thing), so the engine may
    #: skip the rule when `pretest` fails, before copying the values a capturing rule needs
    ignores_unmatched = True

    def __init__(self, info: RuleInfo, match: Condition) -> None:
        self.info, self.match = info, match
        self._group_getters = tuple((name, field_getter(name)) for name in info.group_by)
        self.conditions: dict[str, Condition] = {"match": match}
        self.captures = match.captures
        # payment-webhook-5xx captures the provider from the path: its `status >= 500` decides most access lines
        # on the shared values, without the copy (0.16 us) and the rule's call (0.2 us)
        self.pretest = cheap_part(match) if self.captures and self.ignores_unmatched else None
        self.overflowed = 0  # matches of new groups refused past MAX_GROUPS (exported as a metric)

    def observe(self, event: Event, values: Values) -> list[Alert]:
        raise NotImplementedError

    def tick(self, now: int) -> list[Alert]:
        return []

    def state(self) -> dict[str, Any]:
        """For `rules explain`: the rule's window state, as plain values."""
        return {}

    def overflow(self, event: Event) -> list[Alert]:
        """A match for a new group past MAX_GROUPS: not tracked, but counted, and said once (a group_by field
        with unbounded values, such as a request id, is the usual cause)."""
        self.overflowed += 1
        if self.overflowed > 1:
            return []
        rule = self.info.id
        group = (("rule", rule),)
        return [
            Alert(
                rule=GROUP_LIMIT_RULE,
                title=f"Rule {rule} reached its limit of {MAX_GROUPS:,} groups",
                severity="warning",
                status="firing",
                time=event.time,
                group=group,
                message=f"matches for new groups of {rule} ({self.info.source}) are counted but not tracked",
                event=event,
                runbook="Group by fields with a bounded set of values (not ids); logpipe_rule_groups_overflow_total "
                "counts what was not tracked.",
                id=alert_id(GROUP_LIMIT_RULE, group, "firing", event.time, event),
            )
        ]

    def group_of(self, event: Event, values: Values) -> Group:
        if not self._group_getters:
            return ()
        return tuple((name, _text(get(event, values))) for name, get in self._group_getters)

    def alert(
        self,
        status: str,
        time: int,
        group: Group,
        message: str,
        *,
        severity: str | None = None,
        event: Event | None = None,
        samples: tuple[Event, ...] = (),
        data: Values | None = None,
        **extra: Any,
    ) -> Alert:
        info = self.info
        return Alert(
            rule=info.id,
            title=info.title,
            severity=severity or info.severity,
            status=status,
            time=time,
            group=group,
            message=message,
            event=event,
            samples=samples,
            data=dict(data or {}),
            description=info.description,
            runbook=info.runbook,
            actions=info.actions,
            sentry=_sentry_mode(info.sentry, severity or info.severity, status),
            fingerprint=info.fingerprint,
            template=info.template,
            **extra,
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _public(values: Values) -> Values:
    return {key: value for key, value in values.items() if key not in PRIVATE_KEYS}


# --- every match -------------------------------------------------------------------------------------------------
class EveryRule(CompiledRule):
    """Each match, reported once; the incident book throttles what people are told."""

    kind = "every"

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        return [
            self.alert(
                "firing",
                event.time,
                self.group_of(event, values),
                event.message.split("\n", 1)[0],
                event=event,
                data=_public(values),
            )
        ]


# --- count threshold ---------------------------------------------------------------------------------------------
class ThresholdRule(CompiledRule):
    """`count` matches within `window`: once reached, the matches in the window are reported (each once), and
    every further match while the count holds."""

    kind = "threshold"

    def __init__(self, info: RuleInfo, match: Condition, count: int, window: int) -> None:
        super().__init__(info, match)
        self.count, self.window = count, window
        self.recent: dict[Group, SlidingTimes] = {}
        self.samples: dict[Group, deque[Event]] = {}
        self.reported: dict[Group, int] = {}  # how many of the window's newest matches were already reported

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        group = self.group_of(event, values)
        times = self.recent.get(group)
        if times is None:
            if len(self.recent) >= MAX_GROUPS:
                self._expire(event.time)
                if len(self.recent) >= MAX_GROUPS:
                    return self.overflow(event)
            times = self.recent[group] = SlidingTimes(self.window)
            self.samples[group] = deque(maxlen=MAX_SAMPLES)
        in_window = times.add(event.time)
        reported = min(self.reported.get(group, 0), in_window - 1)  # the oldest may have left the window
        self.samples[group].append(event)
        if in_window < self.count:
            self.reported[group] = reported
            return []
        new = in_window - reported
        self.reported[group] = in_window
        message = (
            f"{in_window} matching events within {format_duration(self.window)} "
            f"(threshold {self.count}): {event.message.split(chr(10), 1)[0]}"
        )
        return [
            self.alert(
                "firing",
                event.time,
                group,
                message,
                event=event,
                samples=tuple(self.samples[group]),
                data=_public(values),
                count=new,
                window=self.window,
                value=float(in_window),
                first_seen=times.times[0],
                last_seen=event.time,
            )
        ]

    def _expire(self, now: int) -> None:
        for group in [g for g, t in self.recent.items() if not t.times or now - t.times[-1] > self.window]:
            del self.recent[group]
            self.samples.pop(group, None)
            self.reported.pop(group, None)

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "threshold": self.count,
            "in_window": {_group_text(g): len(t.times) for g, t in self.recent.items()},
        }


# --- windowed kinds: ratio, aggregate, absence -------------------------------------------------------------------
@dataclass(slots=True)
class _Firing:
    severity: str
    since: int


class WindowedRule(CompiledRule):
    """Evaluates each group every `evaluate_every` of event time; fires on crossing, escalates from warning to
    critical, and resolves when the value is back under the lowest level."""

    def __init__(
        self, info: RuleInfo, match: Condition, window: int, evaluate_every: int, levels: tuple[tuple[float, str], ...]
    ) -> None:
        super().__init__(info, match)
        self.window, self.every = window, evaluate_every
        self.levels = levels  # (limit, severity), highest limit first
        self.firing: dict[Group, _Firing] = {}
        self.samples: dict[Group, deque[Event]] = {}
        self.next_evaluation: int | None = None
        self.last_values: dict[Group, tuple[float | None, int]] = {}

    def tick(self, now: int) -> list[Alert]:
        if self.next_evaluation is None:
            self.next_evaluation = (now // self.every + 1) * self.every
            return []
        if now < self.next_evaluation:
            return []
        at = now // self.every * self.every  # evaluate once at the latest boundary, even after a long gap
        self.next_evaluation = at + self.every
        alerts: list[Alert] = []
        for group in self.groups():
            value, size = self.measure(group, at)
            self.last_values[group] = (value, size)
            alerts.extend(self._decide(group, at, value, size))
        self.forget_before(at - self.window)
        return alerts

    def _decide(self, group: Group, at: int, value: float | None, size: int) -> list[Alert]:
        if value is None or not self.judged(size):
            return []  # too little data to say either way: neither fire nor clear (e.g. while the API is down)
        severity = self.level_of(value)
        samples = tuple(self.samples.get(group, ()))
        if severity is not None:
            self.firing[group] = _Firing(severity, self.firing[group].since if group in self.firing else at)
        else:
            self.firing.pop(group, None)
        return [
            self.alert(
                "firing" if severity else "resolved",
                at,
                group,
                self.describe(value, size, severity),
                severity=severity or self.levels[-1][1],
                samples=samples,
                event=samples[-1] if samples and severity else None,
                value=value,
                count=self.hits(group, size),
                window=self.window,
                last_seen=at,
            )
        ]

    def hits(self, group: Group, size: int) -> int:
        """What an incident counts at this evaluation: the matching events in the window."""
        return size

    def level_of(self, value: float) -> str | None:
        for limit, severity in self.levels:
            if value > limit:
                return severity
        return None

    def _sample(self, group: Group, event: Event) -> None:
        samples = self.samples.get(group)
        if samples is None:
            samples = self.samples[group] = deque(maxlen=MAX_SAMPLES)
        samples.append(event)

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "levels": [list(level) for level in self.levels],
            "firing": {_group_text(g): f.severity for g, f in self.firing.items()},
            "last_evaluation": {_group_text(g): {"value": v, "size": s} for g, (v, s) in self.last_values.items()},
        }

    # what each windowed kind defines
    def groups(self) -> list[Group]:
        raise NotImplementedError

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        raise NotImplementedError

    def judged(self, size: int) -> bool:
        return True

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        raise NotImplementedError

    def forget_before(self, time: int) -> None:
        raise NotImplementedError


class RatioRule(WindowedRule):
    """`match` events among `base` events within the window: 5xx responses among all responses."""

    kind = "ratio"
    ignores_unmatched = False  # every base event counts

    def __init__(
        self,
        info: RuleInfo,
        match: Condition,
        base: Condition,
        window: int,
        evaluate_every: int,
        levels: tuple[tuple[float, str], ...],
        min_base: int,
    ) -> None:
        super().__init__(info, match, window, evaluate_every, levels)
        self.base, self.min_base = base, min_base
        self.conditions["base"] = base
        self.captures = match.captures or base.captures
        self.counts: dict[Group, BucketCounts] = {}
        self._hits: dict[Group, int] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.base.test(event, values):
            return []
        group = self.group_of(event, values)
        counts = self.counts.get(group)
        if counts is None:
            if len(self.counts) >= MAX_GROUPS:
                return self.overflow(event)
            counts = self.counts[group] = BucketCounts(self.every)
        hit = self.match.test(event, values)
        counts.add(event.time, hit)
        if hit:
            self._sample(group, event)
        return []

    def groups(self) -> list[Group]:
        return list(self.counts)

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        hits, total = self.counts[group].window(at, self.window)
        self._hits[group] = hits
        return (hits / total if total else None), total

    def hits(self, group: Group, size: int) -> int:
        return self._hits.get(group, 0)

    def judged(self, size: int) -> bool:
        return size >= self.min_base

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        shown = "n/a" if value is None else f"{value:.1%}"
        state = f"above {self._limit_for(severity):.0%}" if severity else "back under the threshold"
        return f"{shown} of {size} events in the last {format_duration(self.window)} matched ({state})"

    def _limit_for(self, severity: str | None) -> float:
        return next(limit for limit, level in self.levels if level == severity)

    def forget_before(self, time: int) -> None:
        for group, counts in list(self.counts.items()):
            counts.drop_before(time)
            if not counts.buckets and not counts.others and group not in self.firing:
                del self.counts[group]
                self._hits.pop(group, None)


class AggregateRule(WindowedRule):
    """A statistic of a numeric field within the window: p95 of http.duration_ms above 5000."""

    kind = "aggregate"

    def __init__(
        self,
        info: RuleInfo,
        match: Condition,
        value_field: str,
        function: str,
        window: int,
        evaluate_every: int,
        levels: tuple[tuple[float, str], ...],
        min_count: int,
    ) -> None:
        super().__init__(info, match, window, evaluate_every, levels)
        self.value_field, self.function, self.min_count = value_field, function, min_count
        self.get_value = field_getter(value_field)
        self.values: dict[Group, BucketValues] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        raw = self.get_value(event, values)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return []
        group = self.group_of(event, values)
        slots = self.values.get(group)
        if slots is None:
            if len(self.values) >= MAX_GROUPS:
                return self.overflow(event)
            slots = self.values[group] = BucketValues(self.every, self.function[0] == "p")
        slots.add(event.time, float(raw))
        if self.levels and raw > self.levels[-1][0]:
            self._sample(group, event)
        return []

    def groups(self) -> list[Group]:
        return list(self.values)

    def measure(self, group: Group, at: int) -> tuple[float | None, int]:
        return self.values[group].aggregate(at, self.window, self.function)

    def judged(self, size: int) -> bool:
        return size >= self.min_count

    def describe(self, value: float | None, size: int, severity: str | None) -> str:
        shown = "n/a" if value is None else f"{value:,.0f}"
        limit = next((lim for lim, level in self.levels if level == severity), self.levels[-1][0])
        state = f"above {limit:,.0f}" if severity else f"back under {self.levels[-1][0]:,.0f}"
        return (
            f"{self.function} of {self.value_field} = {shown} over {size} events in the last "
            f"{format_duration(self.window)} ({state})"
        )

    def forget_before(self, time: int) -> None:
        for group, slots in list(self.values.items()):
            slots.drop_before(time)
            if not slots.buckets and not slots.others and group not in self.firing:
                del self.values[group]


class AbsenceRule(CompiledRule):
    """Fewer than `min_count` matching events within the window: the API stopped logging requests.
    Counting starts at the first watermark, so a replay does not fire before it has seen a whole window."""

    kind = "absence"

    def __init__(self, info: RuleInfo, match: Condition, window: int, min_count: int) -> None:
        super().__init__(info, match)
        self.window, self.min_count = window, min_count
        self.start: int | None = None
        self.recent: dict[Group, SlidingTimes] = {(): SlidingTimes(window)} if not info.group_by else {}
        self.last_event: dict[Group, Event] = {}
        self.firing: dict[Group, int] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        if not self.match.test(event, values):
            return []
        group = self.group_of(event, values)
        self.last_event[group] = event
        times = self.recent.get(group)
        if times is None:
            if len(self.recent) >= MAX_GROUPS:
                return self.overflow(event)
            times = self.recent[group] = SlidingTimes(self.window)
        if self.min_count == 1 and times.times:  # one recent match is all an absence of one needs to know
            times.times[-1] = max(times.times[-1], event.time)
        else:
            times.add(event.time)
        return []

    def tick(self, now: int) -> list[Alert]:
        """Each group's state once a whole window has been watched: absent (firing, from when the window ran
        empty) or present (resolved)."""
        if self.start is None:
            self.start = now
        if now < self.start + self.window:
            return []  # not a whole window seen yet: a replay's first minutes say nothing either way
        alerts = []
        for group, times in self.recent.items():
            while times.times and times.times[0] <= now - self.window:
                times.times.popleft()
            last = self.last_event.get(group)
            if len(times.times) >= self.min_count:
                self.firing.pop(group, None)
                alerts.append(
                    self.alert(
                        "resolved",
                        now,
                        group,
                        f"matching events are back ({len(times.times)} in the last {format_duration(self.window)})",
                        event=last,
                        count=len(times.times),
                        window=self.window,
                        last_seen=now,
                    )
                )
                continue
            began = last.time if last is not None else self.start
            due = max(began + self.window, self.start + self.window)  # when the window ran empty
            first = group not in self.firing
            since = self.firing.setdefault(group, due)
            seen = f"last one at {format_time(last.time)}" if last is not None else "none seen since start"
            alerts.append(
                self.alert(
                    "firing",
                    since if first else now,
                    group,
                    f"fewer than {self.min_count} matching events in {format_duration(self.window)} ({seen})",
                    event=last,
                    count=len(times.times),
                    window=self.window,
                    first_seen=since,
                    last_seen=now,
                )
            )
        return alerts

    def state(self) -> dict[str, Any]:
        return {
            "window": format_duration(self.window),
            "min_count": self.min_count,
            "in_window": {_group_text(g): len(t.times) for g, t in self.recent.items()},
            "firing_since": {_group_text(g): format_time(t) for g, t in self.firing.items()},
        }


# --- sequence ----------------------------------------------------------------------------------------------------
class SequenceRule(CompiledRule):
    """`match` not followed by `then` with the same key within `within`: a payment accepted, no credits granted."""

    kind = "sequence"
    ignores_unmatched = False  # two conditions, each with its own copy of the values

    def __init__(self, info: RuleInfo, match: Condition, then: Condition, key: tuple[str, ...], within: int) -> None:
        super().__init__(info, match)
        self.then, self.within = then, within
        self.conditions["then"] = then
        self.captures = True  # observe copies values itself for each of its two conditions
        self._key_getters = tuple((name, field_getter(name)) for name in key)
        self.pending: dict[Group, tuple[int, Event, Values]] = {}

    def observe(self, event: Event, values: Values) -> list[Alert]:
        then_values = dict(values)
        if self.then.test(event, then_values):
            self.pending.pop(self._key(event, then_values), None)
        first_values = dict(values)
        if self.match.test(event, first_values):
            key = self._key(event, first_values)
            if key not in self.pending:
                if len(self.pending) >= MAX_GROUPS:
                    return self.overflow(event)
                self.pending[key] = (event.time + self.within, event, _public(first_values))
        return []

    def tick(self, now: int) -> list[Alert]:
        due = sorted((deadline, key) for key, (deadline, _, _) in self.pending.items() if deadline <= now)
        alerts = []
        for deadline, key in due:
            _, event, values = self.pending.pop(key)
            alerts.append(
                self.alert(
                    "firing",
                    deadline,
                    key,
                    f"not followed within {format_duration(self.within)} "
                    f"({_group_text(key)}): {event.message.split(chr(10), 1)[0]}",
                    event=event,
                    data=values,
                    window=self.within,
                    first_seen=event.time,
                    last_seen=deadline,
                )
            )
        return alerts

    def _key(self, event: Event, values: Values) -> Group:
        return tuple((name, _text(get(event, values))) for name, get in self._key_getters)

    def state(self) -> dict[str, Any]:
        return {
            "within": format_duration(self.within),
            "waiting": {_group_text(k): format_time(d) for k, (d, _, _) in self.pending.items()},
        }


def _sentry_mode(chosen: str | None, severity: str, status: str) -> str:
    """Critical alerts are Sentry events, the rest breadcrumbs on the container's trail (a rule may choose);
    a resolution is always a breadcrumb."""
    if status != "firing":
        return "breadcrumb" if chosen != "off" else "off"
    return chosen or ("event" if severity == "critical" else "breadcrumb")


def _group_text(group: Group) -> str:
    return ",".join(f"{k}={v}" for k, v in group) or "(all)"


# --- building ----------------------------------------------------------------------------------------------------
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


def __getattr__(name: str) -> object:
    if name == "RuleKind":  # its name until the redesign (issue 26)
        import warnings

        warnings.warn("RuleKind is CompiledRule now", DeprecationWarning, stacklevel=2)
        return CompiledRule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
