"""Throttle: one incident, one alert. Per group, the first match fires; matches within `interval` of the previous
alert are held back and counted; the next alert after the interval carries that count (`suppressed`). A group
quiet for `interval` ends its incident, so its next match starts a new one."""

from __future__ import annotations

from dataclasses import dataclass

Group = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Incident:
    first_seen: int
    last_seen: int
    last_alert: int
    count: int = 1  # matches in this incident
    suppressed: int = 0  # held back since the last alert


@dataclass(frozen=True, slots=True)
class Decision:
    incident: Incident
    suppressed: int  # what the alert being sent carries


class Throttle:
    def __init__(self, interval: int, max_groups: int = 10_000) -> None:
        self.interval, self.max_groups = interval, max_groups
        self.incidents: dict[Group, Incident] = {}

    def hit(self, group: Group, time: int) -> Decision | None:
        """Record a match; a Decision when it should alert, None when it is held back."""
        incident = self.incidents.get(group)
        if incident is None or time - incident.last_seen >= self.interval:
            if incident is None and len(self.incidents) >= self.max_groups:
                self.expire(time)
            incident = self.incidents[group] = Incident(time, time, time)
            return Decision(incident, 0)
        incident.count += 1
        incident.last_seen = max(incident.last_seen, time)
        if time - incident.last_alert >= self.interval:
            held, incident.suppressed, incident.last_alert = incident.suppressed, 0, time
            return Decision(incident, held)
        incident.suppressed += 1
        return None

    def expire(self, now: int) -> None:
        """Forget incidents quiet for the interval (their next match starts a new incident anyway)."""
        stale = [group for group, inc in self.incidents.items() if now - inc.last_seen >= self.interval]
        for group in stale:
            del self.incidents[group]

    def pending_suppressed(self) -> dict[Group, int]:
        return {group: inc.suppressed for group, inc in self.incidents.items() if inc.suppressed}
