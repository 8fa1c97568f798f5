"""Every match, reported once: the incident book throttles what people are told."""

from __future__ import annotations

from logpipe.alert import Alert
from logpipe.engine.conditions import Values
from logpipe.engine.kinds.base import CompiledRule, public_values
from logpipe.event import Event


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
                data=public_values(values),
            )
        ]
