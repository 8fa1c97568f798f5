"""The one notification fan-out (pipeline.Fanout), which replay and the follower share: a silenced notification is
neither shown nor committed, a folded symptom only committed (a breadcrumb on its cause's trail), any other both."""

from __future__ import annotations

import dataclasses

from logpipe.alert import Alert, alert_id
from logpipe.incidents.notification import Notification
from logpipe.pipeline import Fanout

T0 = 1_795_770_000_000_000_000


def notification(rule: str, **changes: object) -> Notification:
    alert = Alert(
        rule=rule, title=rule, severity="critical", status="firing", time=T0, group=(), message=rule, runbook="",
        id=alert_id(rule, (), "firing", T0, None),
    )  # fmt: skip
    return dataclasses.replace(Notification.standalone(alert), **changes)  # type: ignore[arg-type]


def test_silenced_go_nowhere_folded_only_to_the_outbox_the_rest_to_both() -> None:
    shown: list[str] = []
    committed: list[str] = []
    fanout = Fanout(lambda n: shown.append(n.rule), lambda n: committed.append(n.rule))
    fanout.send(notification("quiet", silenced="deploy window"))
    fanout.send(notification("symptom", folded_into="cause-incident"))
    fanout.send(notification("cause"))
    assert (shown, committed) == (["cause"], ["symptom", "cause"])
    assert (fanout.shown, fanout.silenced) == (1, 1)


def test_without_an_outbox_only_what_is_shown_goes_anywhere() -> None:
    shown: list[str] = []
    fanout = Fanout(lambda n: shown.append(n.rule))
    fanout.send(notification("symptom", folded_into="cause-incident"))
    fanout.send(notification("cause"))
    assert shown == ["cause"]
