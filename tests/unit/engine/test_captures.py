"""A rule whose regexes capture gets its own copy of the event's values: its captures group and label its own
alerts and never show up in another rule's."""

from __future__ import annotations

from pathlib import Path

from logpipe.engine import Engine
from logpipe.engine.conditions import Any_, FieldTest
from logpipe.engine.specs import cheap_part, compile_condition
from tests.unit.engine.helpers import event, ruleset

RULES = """
rules:
  - id: webhook-5xx
    title: webhook 5xx
    severity: critical
    runbook: look at the provider's dashboard
    match:
      all:
        - http.path: {regex: '^/pay/(?P<provider>stripe|razorpay)/webhook'}
        - http.status: {gte: 500}
    group_by: [provider]
    examples:
      match: ['{"msg": "r", "http": {"path": "/pay/stripe/webhook", "status": 502}}']
      no_match: ['{"msg": "r", "http": {"path": "/pay/stripe/webhook", "status": 200}}']
  - id: any-request
    title: a request
    severity: info
    runbook: none needed
    match: {http.status: {exists: true}}
    examples: {match: ['{"msg": "r", "http": {"status": 200}}']}
"""


def test_a_capturing_rule_fires_with_its_capture_and_keeps_it_to_itself(tmp_path: Path) -> None:
    engine = Engine(ruleset(tmp_path, RULES))
    ok = engine.process(event(0, "request", http={"path": "/pay/stripe/webhook", "status": 200}))
    assert [alert.rule for alert in ok] == ["any-request"]
    failed = engine.process(event(1, "request", http={"path": "/pay/razorpay/webhook", "status": 503}))
    by_rule = {alert.rule: alert for alert in failed}
    assert set(by_rule) == {"webhook-5xx", "any-request"}
    assert by_rule["webhook-5xx"].group == (("provider", "razorpay"),)
    assert by_rule["webhook-5xx"].data["provider"] == "razorpay"
    assert "provider" not in by_rule["any-request"].data  # the capture went to the capturing rule's copy only


def test_what_is_tried_before_a_capturing_rule_copies_the_values() -> None:
    """`cheap_part`: false whenever the condition is, and the same before the regexes capture: no capturing
    regex, no read of a captured name; an `any:` only when each branch has such a part."""
    condition = compile_condition(
        {"all": [{"http.path": {"regex": "(?P<provider>stripe)"}}, {"http.status": {"gte": 500}}, {"provider": "x"}]},
        ("match",),
    )
    part = cheap_part(condition)
    assert isinstance(part, FieldTest)
    assert part.field == "http.status"  # `provider` has its value only after the regex
    webhook = compile_condition(
        {"any": [{"all": [{"http.path": {"regex": "(?P<p>stripe)"}}, {"http.status": {"gte": 500}}]}, {"text": "x"}]},
        ("match",),
    )
    assert isinstance(cheap_part(webhook), Any_)
    assert cheap_part(compile_condition({"any": [{"text": {"regex": "(?P<x>y)"}}, {"a": 1}]}, ("m",))) is None
    assert cheap_part(compile_condition({"not": {"a": 1}}, ("m",))) is None
