"""A condition on a field no event carries is a warning naming the closest field; the pack has none."""

from __future__ import annotations

from pathlib import Path

from logpipe.engine import load_rules
from logpipe.engine.fieldcheck import field_warnings

RULE = """\
rules:
  - id: refund-failed
    title: Refund failed
    runbook: Check the refunds.
    match:
      any:
        - message: {startswith: 'Refund failed'}
        - msg: {startswith: 'Refund failed'}
        - refund.status: failed
        - http.status: 402
        - text: {regex: 'refund (?P<refund_id>re_\\w+)'}
        - refund_id: {exists: true}
    examples:
      match: ['Refund failed: re_1']
      no_match: ['{"message": "Refund issued", "refund": {"status": "ok"}}']
"""


def test_a_field_nothing_carries_is_a_warning_with_the_closest_name(tmp_path: Path) -> None:
    (tmp_path / "refunds.yml").write_text(RULE)
    found = [str(warning) for warning in field_warnings(load_rules([tmp_path]))]
    assert found == [  # http.status is not extracted here (no pack): a warning too
        f"{tmp_path / 'refunds.yml'}:8: rules[0].match.any[1].msg: no event carries field 'msg': it is not an Event "
        "attribute, no extractor fills it and none of refund-failed's examples has it; did you mean 'message'?",
        f"{tmp_path / 'refunds.yml'}:10: rules[0].match.any[3].http.status: no event carries field 'http.status': "
        "it is not an Event attribute, no extractor fills it and none of refund-failed's examples has it",
    ]


def test_fields_extractors_fill_are_known(tmp_path: Path) -> None:
    from logpipe.engine import default_rules_dir

    (tmp_path / "refunds.yml").write_text(RULE.replace("        - msg: {startswith: 'Refund failed'}\n", ""))
    assert field_warnings(load_rules([default_rules_dir(), tmp_path])) == []


def test_the_pack_conditions_read_only_fields_events_carry() -> None:
    assert field_warnings(load_rules()) == []
