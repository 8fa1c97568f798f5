"""Notification templates: sandboxed, strict, escaped, size-capped, checked at rule load."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from logpipe.engine import RuleLoadError, load_rules
from logpipe.render.renderer import Renderer, TemplateProblem, sample_payload


def test_every_default_template_renders_the_sample() -> None:
    renderer = Renderer()
    payload = sample_payload()
    assert renderer.check(None, payload) == []
    slack = orjson.loads(renderer.render_json("slack", payload))
    assert slack["text"] == ":warning: Postgres connection error"
    assert orjson.loads(renderer.render_json("webhook", payload))["rule"] == "postgres-connection-error"
    assert renderer.render("email.subject", payload) == "[WARNING] Postgres connection error (container=clipforge-api)"


def test_user_templates_run_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "evil.console.txt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateProblem, match="unsafe"):
        Renderer([tmp_path]).render("console", sample_payload(), "evil")


def test_unknown_variable_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    (tmp_path / "typo.console.txt.j2").write_text("{{ titel }}")
    with pytest.raises(TemplateProblem, match="'titel' is undefined"):
        Renderer([tmp_path]).render("console", sample_payload(), "typo")


def test_html_email_is_autoescaped_and_text_is_not() -> None:
    payload = sample_payload() | {"message": "<script>alert(1)</script>"}
    renderer = Renderer()
    assert "&lt;script&gt;" in renderer.render("email.html", payload)
    assert "<script>" in renderer.render("email.text", payload)


def test_text_output_over_the_cap_is_cut_with_a_marker_and_json_is_refused() -> None:
    payload = sample_payload() | {"title": "x" * 400}
    subject = Renderer().render("email.subject", payload)
    assert len(subject) == 250
    assert subject.endswith("…[truncated]")
    with pytest.raises(TemplateProblem, match="over the 40000 limit"):
        Renderer().render("slack", payload | {"group": {f"k{i}": "y" * 8000 for i in range(10)}})


def test_a_rule_whose_template_has_a_typo_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "payments.slack.json.j2").write_text('{"text": {{ alert.titel | tojson }}}')
    (tmp_path / "rules.yml").write_text(
        "rules:\n  - id: x\n    title: x\n    runbook: x\n    template: payments\n"
        "    match: {message: {contains: boom}}\n    examples: {match: [boom]}\n"
    )
    with pytest.raises(RuleLoadError) as raised:
        load_rules([tmp_path])
    assert str(raised.value).startswith(f"{tmp_path / 'rules.yml'}:5: rules[0].template: payments.slack.json.j2:")
    assert "'dict object' has no attribute 'titel'" in str(raised.value)


def test_templates_render_an_alert_without_event_or_group() -> None:
    from logpipe.alert import Alert
    from logpipe.incidents.notification import Notification

    bare = Notification.standalone(
        Alert(
            rule="api-down",
            title="clipforge-api is down",
            severity="critical",
            status="firing",
            time=0,
            group=(),
            message="no requests for 5m",
            id="f" * 32,
        )
    ).to_dict()
    assert Renderer().check(None, bare) == []


def test_templates_render_an_event_from_a_plain_file() -> None:
    from logpipe.engine.examples import parse_example

    payload = sample_payload() | {"event": parse_example("ERROR something broke")[0].to_dict()}
    assert Renderer().check(None, payload) == []


def test_a_resolution_says_so_in_the_subject_and_slack_shows_counts_users_and_duration() -> None:
    payload = sample_payload() | {"status": "resolved", "count": 2, "total": 5, "duration_seconds": 754.0}
    renderer = Renderer()
    assert renderer.render("email.subject", payload).startswith("[RESOLVED] Postgres connection error")
    slack = orjson.loads(renderer.render_json("slack", payload))
    text = orjson.dumps(slack).decode()
    assert slack["text"] == ":white_check_mark: Resolved: Postgres connection error"
    assert "2 new, 5 in all" in text
    assert "2 users: usr_1 x4, usr_2 x1" in text
    assert "754.0 s" in text
    assert "Symptoms folded in:* 14 x HTTP 5xx error rate" in text


def test_a_broken_console_template_prints_the_notification_plainly_and_goes_on(tmp_path: Path) -> None:
    import io

    from logpipe.alert import Alert
    from logpipe.console.printers import ConsolePrinter
    from logpipe.incidents.notification import Notification

    (tmp_path / "oops.console.txt.j2").write_text("{{ 1 / 0 }}")
    out = io.StringIO()
    sink = ConsolePrinter(out, False, None, Renderer([tmp_path]))
    alert = Alert(
        rule="r", title="T", severity="critical", status="firing", time=0, group=(), message="m", template="oops"
    )
    sink.show(Notification.standalone(alert))
    assert out.getvalue() == "FIRING critical r: T (console template failed)\n"
