"""The engine: runs events through the compiled rules on event time. Pure and clock-free: time comes from the
events and from `advance(now)`, which the live pipeline calls when streams are idle, so live, replay and tests
fire the same alerts for the same input.

One of design.md's four catch boundaries is here: a rule that raises is disabled and reported as an alert of its
own, and the pipeline goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

from logpipe.alert import Alert, alert_id
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.metrics.model import MetricSet
from logpipe.engine.rules import RuleSet
from logpipe.event import Event

TICK = 1_000_000_000  # windows, absences and sequences are checked once per second of event time
DISABLED_RULE = "logpipe.rule-disabled"


class Engine:
    def __init__(self, ruleset: RuleSet, tick: int = TICK, metrics: MetricSet | None = None) -> None:
        self.ruleset, self.tick = ruleset, tick
        self.metrics = metrics  # log-derived metrics, counted from the events the rules see (None: not counted)
        self.active: list[CompiledRule | None] = list(ruleset.new_states())
        self.disabled: dict[str, str] = {}  # rule id -> the error that disabled it
        self.watermark: int | None = None
        self._next_tick: int | None = None
        self.events = 0
        # `prescan`'s batch: the events, their scan texts and patterns found, and how many process() has used
        self._ahead: Sequence[Event] = ()
        self._ahead_texts: list[str] = []
        self._ahead_found: list[Sequence[int]] = []
        self._ahead_at = 0

    def reload(self, ruleset: RuleSet) -> None:
        """Run a new rule set from here on: a rule whose definition did not change keeps its live instance (its
        windows), a changed or new one starts empty, and a disabled one gets another chance."""
        kept = {rule.info.id: rule for rule in self.active if rule is not None}
        fresh = ruleset.new_states()
        self.active = [
            kept[rule.info.id] if rule.info.id in kept and kept[rule.info.id].info.model == rule.info.model else rule
            for rule in fresh
        ]
        self.disabled = {rule: why for rule, why in self.disabled.items() if rule not in ruleset.index}
        if self.metrics is not None:  # one attribute store: a scrape reads the old set or the new one
            self.metrics = self.metrics.reloaded(ruleset.metrics)
        self.ruleset = ruleset

    def rule(self, rule_id: str) -> CompiledRule | None:
        """This engine's live instance of a rule (with its window state), None once disabled."""
        return self.active[self.ruleset.index[rule_id]]

    def prescan(self, events: Sequence[Event]) -> None:
        """Scan the next events' texts for the prefilter's patterns in one call; `process` then uses each result
        when given that event, in order. A replay's batches: one scan per batch, not per line, is 0.8 us a line
        less. An event process() is given out of turn is scanned on its own, so a batch is never wrong, at worst
        unused."""
        prescanned = self.ruleset.prescan(events)
        if prescanned is None:
            self._ahead = ()
            return
        self._ahead, (self._ahead_texts, self._ahead_found), self._ahead_at = events, prescanned, 0

    def process(self, event: Event) -> list[Alert]:
        """The alerts this event completes: first those of windows the watermark closes, then its own."""
        self.events += 1
        next_tick = self._next_tick
        alerts = self.advance(event.time) if next_tick is None or event.time >= next_tick else []
        if self.watermark is None or event.time > self.watermark:
            self.watermark = event.time
        active = self.active
        at = self._ahead_at
        if at < len(self._ahead) and self._ahead[at] is event:
            self._ahead_at = at + 1
            values, candidates, measured = self.ruleset.select_all(event, self._ahead_texts[at], self._ahead_found[at])
        else:
            values, candidates, measured = self.ruleset.select_all(event)
        for index in candidates:
            rule = active[index]
            if rule is None:
                continue
            try:
                if rule.captures:  # its regexes write into values: its own copy, once its comparisons pass
                    pretest = rule.pretest
                    if pretest is not None and not pretest.test(event, values):
                        continue
                    found = rule.observe(event, dict(values))
                else:
                    found = rule.observe(event, values)
            except Exception as error:
                alerts.append(self._disable(index, error, event))
                continue
            if found:
                alerts.extend(found)
        if measured and self.metrics is not None:
            self.metrics.observe(event, values, measured)
        return alerts

    def advance(self, now: int) -> list[Alert]:
        """Move the watermark to `now` (never back) and run the per-second checks if a tick is due."""
        if self.watermark is None or now > self.watermark:
            self.watermark = now
        if self._next_tick is not None and now < self._next_tick:
            return []
        self._next_tick = (now // self.tick + 1) * self.tick
        alerts: list[Alert] = []
        for index, rule in enumerate(self.active):
            if rule is None:
                continue
            try:
                alerts.extend(rule.tick(self.watermark))
            except Exception as error:
                alerts.append(self._disable(index, error, None))
        if len(alerts) > 1:
            alerts.sort(key=lambda alert: alert.time)  # a long jump of the watermark can release several at once
        return alerts

    def finish(self) -> list[Alert]:
        """End of input: a last check at the watermark (a replay does not invent time past its last line)."""
        if self.watermark is None:
            return []
        self._next_tick = None
        return self.advance(self.watermark)

    def _disable(self, index: int, error: Exception, event: Event | None) -> Alert:
        rule = self.active[index]
        assert rule is not None
        self.active[index] = None
        reason = f"{type(error).__name__}: {error}"
        self.disabled[rule.info.id] = reason
        time = event.time if event is not None else (self.watermark or 0)
        group = (("rule", rule.info.id),)
        return Alert(
            rule=DISABLED_RULE,
            title=f"Rule {rule.info.id} was disabled after an error",
            severity="warning",
            status="firing",
            time=time,
            group=group,
            message=f"rule {rule.info.id} ({rule.info.source}) raised {reason}; it is off until logpipe restarts",
            event=event,
            runbook="Fix the rule (logpipe rules explain shows what it saw), then restart logpipe.",
            id=alert_id(DISABLED_RULE, group, "firing", time, event),
        )
