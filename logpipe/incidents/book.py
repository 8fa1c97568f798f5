"""The incident book: turns what rules saw (Alerts) into what people are told (Notifications).

An incident is keyed by (rule, group) and lives from its first match (or its first firing evaluation) until it
resolves. Two lifecycles:

- counted rules (every, threshold, sequence): the first match fires; later matches accumulate, and at the end of
  each `throttle` an `update` carries the matches since the previous notification; after `resolve_after` of quiet
  a `resolved` carries the rest. The counts of an incident's notifications add up to its total: none lost, none
  counted twice.
- stateful rules (ratio, aggregate, absence): each evaluation reports a level (warning, critical) or clear. The
  incident fires once the condition held for `for`, notifies once per level reached (re-escalating to a level
  already sent is quiet), resolves after `keep_firing_for` of clear, and when its level changes `changes` times
  within its last `evaluations` evaluations it is `flapping`: said once, then quiet until stable.

A cause (a rule with `inhibits:`) folds in its symptoms while open: their matches are tallied on the cause and
listed by its next notification; a symptom still open when its cause resolves becomes an incident of its own.
Long incidents get a `reminder` every `repeat_interval`. Silenced notifications are made and recorded, not sent.
Time is event time (the watermark), as for the engine: replay and live decide alike.
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from logpipe.alert import Alert
from logpipe.engine.rules import RuleSet
from logpipe.event import Event
from logpipe.incidents.incident import Group, Incident, note_alert, stored_record
from logpipe.incidents.inhibit import Inhibition, find_cause, fold, inhibitions_of, tally
from logpipe.incidents.notification import (
    Notification,
    incident_id,
    incident_notification,
)
from logpipe.incidents.policy import TICK, Policy, policy_of
from logpipe.incidents.silences import SilenceList

MAX_OPEN_PER_RULE = 10_000  # open incidents per rule; past it, new groups share one `(other)` incident
OTHER_GROUP = (("group", "(other)"),)
_RANK = {"info": 0, "warning": 1, "critical": 2}


class IncidentBook:
    def __init__(
        self,
        ruleset: RuleSet,
        silences: SilenceList | None = None,
        clock: Callable[[], int] = wallclock.time_ns,
        identity: Callable[[str, Group, str], str] | None = None,
    ) -> None:
        self.silences = silences or SilenceList()
        # a fleet (logpipe/fleet/) names an incident the same on every instance: (rule, group, own id) -> id
        self.identity = identity
        self.clock = clock  # silences are wall-clock: what is silenced now is not sent now
        self.open: dict[tuple[str, Group], Incident] = {}
        self.by_id: dict[str, Incident] = {}
        self.dirty: dict[str, Incident] = {}  # changed since the last snapshot (closed ones too)
        self._next_tick = 0
        self._open_per_rule: dict[str, int] = {}
        self.load(ruleset)

    def load(self, ruleset: RuleSet) -> None:
        """Take a rule set's policies (at start and on reload); open incidents carry on."""
        self.ruleset = ruleset
        self.policies: dict[str, Policy] = {rule.info.id: policy_of(rule) for rule in ruleset.rules}
        self.rules = {rule.info.id: rule for rule in ruleset.rules}
        self.inhibitions: dict[str, list[Inhibition]] = inhibitions_of(ruleset.rules)
        causes = {item.cause for items in self.inhibitions.values() for item in items}
        self._cause_first = {rule_id: 0 if rule_id in causes else 1 for rule_id in self.policies}

    # --- observations --------------------------------------------------------------------------------------
    def observe_all(self, alerts: Iterable[Alert]) -> list[Notification]:
        """Alerts of one event or one evaluation: causes first, so a line that is both cause and symptom folds."""
        batch = list(alerts)
        if len(batch) > 1:
            # in time order (a batch may hold evaluations of earlier ticks), causes first among alerts of one time
            batch.sort(key=lambda alert: (alert.time, self._cause_first.get(alert.rule, 1)))
        notifications: list[Notification] = []
        for alert in batch:
            if alert.time >= self._next_tick:  # timers due before this alert's time go first (quiet periods end)
                notifications.extend(self.advance(alert.time))
            notifications.extend(self.observe(alert))
        return notifications

    def observe(self, alert: Alert) -> list[Notification]:
        policy = self.policies.get(alert.rule)
        if policy is None:  # about logpipe itself (a rule disabled): one message, no lifecycle
            return [Notification.standalone(alert)]
        if policy.counted:
            return self._match(alert, policy)
        return self._evaluation(alert, policy)

    def _match(self, alert: Alert, policy: Policy) -> list[Notification]:
        incident = self._incident(alert, policy)
        incident.total += alert.count
        incident.unreported += alert.count
        incident.last_seen = max(incident.last_seen, alert.last_seen or alert.time)
        note_alert(incident, alert, policy.summary, policy.counted)
        self._touch(incident)
        if incident.folded_into is None and not incident.started:
            cause = self._cause_of(incident, alert.event)
            if cause is not None:
                return self._fold(incident, cause, alert.time, alert.message, alert.event)
        elif incident.folded_into is not None:
            cause = self.by_id.get(incident.folded_into)
            if cause is not None and cause.closed is None:
                self._tally(cause, incident, alert.count, alert.message)
                return []
        if not incident.started and alert.time >= incident.wait_until:
            return [self._notify(incident, "firing", alert.time)]
        return []

    def _evaluation(self, alert: Alert, policy: Policy) -> list[Notification]:
        key = (alert.rule, alert.group)
        incident = self.open.get(key)
        firing = alert.status == "firing"
        if incident is None:
            if not firing:
                return []  # clear, and nothing open: the common case, every evaluation
            incident = self._incident(alert, policy)
            incident.pending_since = alert.time
        level = alert.severity if firing else None
        now = alert.time
        if (level is None) != (incident.level is None):  # firing <-> clear: what flapping counts
            incident.changes.append(now)
            incident.clear_since = None if firing else now
        incident.level = level
        incident.value, incident.count, incident.window = alert.value, alert.count, alert.window
        incident.message = alert.message
        if firing:
            incident.last_seen = now
            note_alert(incident, alert, policy.summary, policy.counted)
        self._touch(incident)
        while incident.changes and incident.changes[0] <= now - policy.flap_span:
            incident.changes.popleft()
        if not incident.started:
            if not firing:
                if incident.folded_into is None:
                    self._forget(incident, now)  # cleared before it was ever sent (`for`, group_wait)
                return []
            if incident.folded_into is None:
                cause = self._cause_of(incident, alert.event)
                if cause is not None:
                    return self._fold(incident, cause, alert.time, alert.message, alert.event)
            else:
                cause = self.by_id.get(incident.folded_into)
                if cause is not None and cause.closed is None:
                    self._tally(cause, incident, alert.count, alert.message, replace=True)
                    return []
                incident.folded_into = None
            pending = incident.pending_since if incident.pending_since is not None else now
            if now - pending >= policy.pending and now >= incident.wait_until:
                incident.severity = alert.severity
                incident.notified_levels.add(alert.severity)
                return [self._notify(incident, "firing", now)]
            return []
        if incident.flapping:
            return []
        if len(incident.changes) >= policy.flap_changes:
            incident.flapping = True
            return [self._notify(incident, "flapping", now, reason=f"{len(incident.changes)} state changes")]
        if firing and _RANK[alert.severity] > max((_RANK[lv] for lv in incident.notified_levels), default=-1):
            incident.severity = alert.severity
            incident.notified_levels.add(alert.severity)
            return [self._notify(incident, "firing", now, reason="escalated")]
        if firing:
            incident.severity = max(incident.notified_levels, key=_RANK.__getitem__)
        return []

    # --- time --------------------------------------------------------------------------------------------
    def advance(self, now: int) -> list[Notification]:
        """Timers due by `now` (event time): updates, resolutions, group waits, flap ends, reminders."""
        self._next_tick = (now // TICK + 1) * TICK
        notifications: list[Notification] = []
        for incident in list(self.open.values()):
            if incident.closed is not None:
                continue  # closed with its cause earlier in this pass
            policy = self.policies.get(incident.rule)
            if policy is None:  # its rule was removed by a reload
                self._forget(incident, now)
                continue
            if policy.counted:
                notifications.extend(self._counted_timers(incident, policy, now))
            else:
                notifications.extend(self._state_timers(incident, policy, now))
        return notifications

    def _counted_timers(self, incident: Incident, policy: Policy, now: int) -> list[Notification]:
        quiet = now - incident.last_seen >= policy.resolve_after
        reason = ""
        if incident.folded_into is not None:
            cause = self.by_id.get(incident.folded_into)
            if cause is not None and cause.closed is None:
                if quiet:
                    self._forget(incident, now)  # it ended within its cause, which reported it
                return []
            incident.folded_into = None  # still matching after its cause resolved: an incident of its own
            incident.wait_until, reason = now, "still open after its cause resolved"
        if not incident.started:
            if now < incident.wait_until:
                return []
            cause = self._cause_of(incident, incident.event) if not reason else None
            if cause is not None:  # its cause showed up during group_wait
                return self._fold(incident, cause, now, incident.message, incident.event)
            return [self._notify(incident, "firing", now, reason=reason)]
        if quiet:
            notification = self._notify(incident, "resolved", now)
            self._close(incident, now)
            return [notification]
        if incident.next_update is not None and now >= incident.next_update:
            if incident.unreported or incident.symptoms_new:
                reason = "more matches" if incident.unreported else "symptoms folded in"
                return [self._notify(incident, "update", now, reason=reason)]
            incident.next_update = None
        return self._reminder(incident, policy, now)

    def _state_timers(self, incident: Incident, policy: Policy, now: int) -> list[Notification]:
        if incident.folded_into is not None:
            cause = self.by_id.get(incident.folded_into)
            if cause is not None and cause.closed is None:
                if incident.level is None:
                    self._forget(incident, now)
                return []
            incident.folded_into = None
        if not incident.started:
            return []  # decided at its next evaluation
        if incident.flapping:
            if incident.changes and now - incident.changes[-1] < policy.flap_span:
                return []
            incident.flapping = False  # stable again: say where it settled
            incident.changes.clear()
            if incident.level is not None and incident.level not in incident.notified_levels:
                incident.notified_levels.add(incident.level)
                incident.severity = incident.level
                return [self._notify(incident, "firing", now, reason="stable after flapping")]
        if incident.level is None and incident.clear_since is not None:
            if now - incident.clear_since >= policy.keep_firing_for:
                notification = self._notify(incident, "resolved", now)
                self._close(incident, now)
                return [notification]
            return []
        if (
            incident.symptoms_new
            and incident.last_notified is not None
            and now - incident.last_notified >= policy.throttle
        ):
            return [self._notify(incident, "update", now, reason="symptoms folded in")]
        return self._reminder(incident, policy, now)

    def _reminder(self, incident: Incident, policy: Policy, now: int) -> list[Notification]:
        if incident.last_notified is not None and now - incident.last_notified >= policy.repeat_interval:
            return [self._notify(incident, "reminder", now, reason="still open")]
        return []

    def finish(self, now: int) -> list[Notification]:
        """End of a replay's input: what its timers would still say, then every incident left open is closed
        (a `resolved` carrying its last matches, so every count is reported)."""
        notifications = self.advance(now)
        left = sorted(self.open.values(), key=lambda inc: (inc.opened, inc.rule))
        for incident in left:  # a symptom still in its group_wait: its cause may be open (before any is closed)
            waiting = incident.counted and incident.total and not incident.started and incident.folded_into is None
            if waiting and (cause := self._cause_of(incident, incident.event)) is not None:
                notifications.extend(self._fold(incident, cause, now, incident.message, incident.event))
        for incident in left:
            if incident.started and incident.folded_into is None:
                notifications.append(self._notify(incident, "resolved", now, reason="end of input"))
            elif incident.counted and incident.total and incident.folded_into is None:
                notifications.append(self._notify(incident, "firing", now, reason="end of input"))
                notifications.append(self._notify(incident, "resolved", now, reason="end of input"))
            self._close(incident, now)
        return notifications

    # --- the parts -----------------------------------------------------------------------------------------
    def _incident(self, alert: Alert, policy: Policy) -> Incident:
        key = (alert.rule, alert.group)
        incident = self.open.get(key)
        if incident is None and self._open_per_rule.get(alert.rule, 0) >= MAX_OPEN_PER_RULE:
            alert = replace(alert, group=OTHER_GROUP)  # counted, in one incident, rather than dropped
            key = (alert.rule, OTHER_GROUP)
            incident = self.open.get(key)
        if incident is None:
            rule = self.rules[alert.rule]
            opened = alert.first_seen if policy.counted and alert.first_seen is not None else alert.time
            labels = {**rule.info.model.labels, **dict(alert.group)}  # the rule's fixed labels, then its group's
            if alert.event is not None:
                labels.setdefault("container", alert.event.origin.name)
            own_id = incident_id(alert.rule, alert.group, opened)
            incident = Incident(
                id=self.identity(alert.rule, alert.group, own_id) if self.identity is not None else own_id,
                rule=alert.rule,
                group=alert.group,
                opened=opened,
                counted=policy.counted,
                severity=alert.severity or rule.info.severity,
                labels=labels,
                last_seen=alert.time,
                wait_until=alert.time + policy.group_wait,
            )
            self.open[key] = incident
            self.by_id[incident.id] = incident
            self._open_per_rule[alert.rule] = self._open_per_rule.get(alert.rule, 0) + 1
        return incident

    def _cause_of(self, incident: Incident, event: Event | None) -> Incident | None:
        return find_cause(self.inhibitions.get(incident.rule, ()), incident, event, self.open.values(), self.ruleset)

    def _fold(
        self, symptom: Incident, cause: Incident, now: int, message: str, event: Event | None
    ) -> list[Notification]:
        trail = fold(symptom, cause, self.rules[symptom.rule].info.title, now, message, event)
        self._touch(cause)
        self._touch(symptom)
        return [trail]

    def _tally(self, cause: Incident, symptom: Incident, count: int, detail: str, replace: bool = False) -> None:
        tally(cause, symptom, self.rules[symptom.rule].info.title, count, detail, replace)
        self._touch(cause)
        self._touch(symptom)

    def _notify(self, incident: Incident, kind: str, now: int, reason: str = "") -> Notification:
        rule = self.rules[incident.rule]
        info = rule.info
        policy = self.policies[incident.rule]
        incident.seq += 1
        if policy.counted:
            count, incident.unreported = incident.unreported, 0
            incident.next_update = now + policy.throttle
        else:
            count = incident.count
        silenced = self.silences.holding(incident.rule, incident.labels, self.clock())
        total = incident.total if policy.counted else incident.count
        notification = incident_notification(incident, info, kind, now, count, total, reason, silenced)
        incident.started = True
        incident.last_notified = now
        incident.last_kind = kind
        incident.last_outcome = silenced or "sent"
        incident.symptoms_new = False
        self._touch(incident)
        return notification

    def _touch(self, incident: Incident) -> None:
        self.dirty[incident.id] = incident

    def _close(self, incident: Incident, now: int) -> None:
        incident.closed = now
        if self.open.pop((incident.rule, incident.group), None) is not None:
            self._open_per_rule[incident.rule] -= 1
        self._touch(incident)
        for symptom in [inc for inc in self.open.values() if inc.folded_into == incident.id]:
            ended_within = symptom.level is None if not symptom.counted else symptom.last_seen <= incident.last_seen
            if ended_within:
                self._forget(symptom, now)  # it ended within its cause, which reported it
            elif not symptom.counted:
                # a window still holds the cause's time: it is a problem of its own only if it still holds once
                # its whole window lies after the cause (an error rate measured after Postgres came back)
                symptom.wait_until = max(symptom.wait_until, incident.last_seen + (symptom.window or 0))
            # else: still matching after its cause resolved; its next tick makes it an incident of its own

    def _forget(self, incident: Incident, now: int) -> None:
        """Closed without a notification of its own (it never fired, or ended inside its cause)."""
        if not incident.last_outcome:
            incident.last_outcome = "never sent"
        self._close(incident, now)

    def rename(self, old: str, new: str) -> None:
        """An incident takes the id the fleet knows it by (after Redis came back; logpipe/fleet/)."""
        incident = self.by_id.get(old)
        if incident is None or old == new:
            return
        del self.by_id[old]
        # the record saved under the old id is closed, so a restart restores the incident once, by its new id
        self.dirty[old] = replace(incident, closed=incident.last_seen, last_outcome=f"now incident {new}")
        incident.id = new
        self.by_id[new] = incident
        for other in self.by_id.values():
            if other.folded_into == old:
                other.folded_into = new
        self._touch(incident)

    # --- state ---------------------------------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        """The incidents changed since the last snapshot, as records: saved with the checkpoints."""
        records = [stored_record(incident.to_record()) for incident in self.dirty.values()]
        self.dirty.clear()
        for incident in [inc for inc in self.by_id.values() if inc.closed is not None]:
            del self.by_id[incident.id]
        return records

    def restore(self, records: Iterable[dict[str, Any]]) -> None:
        """Open incidents as the last checkpoint left them (their events are not kept)."""
        for record in records:
            incident = Incident.from_record(record)
            if incident.closed is not None or incident.rule not in self.policies:
                continue
            self.open[(incident.rule, incident.group)] = incident
            self.by_id[incident.id] = incident
            self._open_per_rule[incident.rule] = self._open_per_rule.get(incident.rule, 0) + 1
