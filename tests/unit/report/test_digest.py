"""The daily digest: its schedule, its config, its figures, and that each day's is committed once across restarts
(the follower's real outbox and state store; the delivery to real receivers is tests/docker/test_digest.py)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.config.load import load_config
from logpipe.engine import Engine, load_rules
from logpipe.engine.metrics.model import MetricSet
from logpipe.errors import ConfigError
from logpipe.event import Origin
from logpipe.pipeline import parse_lines
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer
from logpipe.report.digest import Digest, from_samples, rule_title
from logpipe.report.schedule import ReportConfig
from logpipe.report.scheduler import DigestScheduler
from logpipe.sinks.dispatcher import Dispatcher
from logpipe.sources.file import read_lines
from logpipe.state.directory import STATE_FILE
from logpipe.state.store import StateStore
from tests.conftest import EXAMPLES


def _ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1e9)


def test_the_latest_occurrence_is_today_after_the_time_and_yesterday_before_it_in_the_zone() -> None:
    schedule = ReportConfig(daily_at="08:00:30", timezone="Europe/Berlin", channels=["mail"]).schedule()
    before = schedule.latest(_ns("2026-11-30T07:00:29+00:00"))  # 08:00:29 in Berlin
    after = schedule.latest(_ns("2026-11-30T07:00:30+00:00"))
    assert (before.id, before.at) == ("digest-2026-11-29", _ns("2026-11-29T07:00:30+00:00"))
    assert (after.id, after.at) == ("digest-2026-11-30", _ns("2026-11-30T07:00:30+00:00"))
    assert schedule.next_after(_ns("2026-11-30T07:00:30+00:00")).id == "digest-2026-12-01"


@pytest.mark.parametrize(
    ("report", "where", "problem"),
    [
        (
            "\n  daily_at: '08:00'\n  channels:\n    - pager",
            "logpipe.yml:6: report.channels[0]",
            "unknown channel 'pager'",
        ),
        ("{daily_at: '8am', channels: [mail]}", "logpipe.yml:3: report.daily_at", "should match pattern"),
        ("{daily_at: '08:00', timezone: Mars/Base, channels: [mail]}", "logpipe.yml:3: report.timezone", "Mars"),
        ("{daily_at: '08:00', channels: []}", "logpipe.yml:3: report.channels", "at least 1 item"),
        ("{daily_at: '08:00', channels: [mail], every: 1d}", "logpipe.yml:3: report.every", "unknown key"),
        ("{daily_at: '08:00', channels: [mail], keep: 30m}", "logpipe.yml:3: report.keep", "between 1h and 31d"),
        ("{daily_at: '08:00', channels: [mail], keep: 2x}", "logpipe.yml:3: report.keep", "2x"),
    ],
)
def test_a_bad_report_section_is_refused_at_load_with_its_line(
    tmp_path: Path, report: str, where: str, problem: str
) -> None:
    path = tmp_path / "logpipe.yml"
    text = f"channels:\n  mail: {{url: 'mailto://localhost?to=a@b.test'}}\nreport: {report}\n"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path.parent}/{where}: "), str(refused.value)
    assert problem in str(refused.value)


class Recorder:
    """A sink that keeps what it was given (the channels themselves are tested against real receivers)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.payloads: list[dict[str, Any]] = []

    def deliver(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)


LINES = (
    "[Nest] 1  - 11/30/2026, 7:59:01 AM     LOG [HTTP] GET /api/v1/clips/clp_8f2k/metadata 200 23ms - 120b\n"
    "[Nest] 1  - 11/30/2026, 7:59:02 AM     LOG [HTTP] POST /api/v1/clips/clp_9a/render 503 41ms - 88b\n"
    "[Nest] 1  - 11/30/2026, 7:59:03 AM   ERROR [StripeWebhookController] Webhook signature verification failed: "
    "No signatures found matching the expected signature for payload\n"
    "StripeSignatureVerificationError: No signatures found matching the expected signature for payload.\n"
)


def _follower_parts(state: Path) -> tuple[Engine, Dispatcher, Recorder]:
    """What `logpipe follow` hands the scheduler: its engine (metrics on) and its outbox."""
    rules = load_rules(None)
    engine = Engine(rules, metrics=MetricSet(rules.metrics))
    recorder = Recorder("mail")
    store = StateStore(state / STATE_FILE)
    return engine, Dispatcher(store, {"mail": recorder}, lambda _: [], Redactor()), recorder


def _feed(engine: Engine, text: str) -> None:
    for event in parse_lines(read_lines(io.BytesIO(text.encode()), Origin("file", "api.log"))):
        engine.process(event)


def test_a_digest_is_committed_once_at_its_time_across_restarts_with_the_counts_of_every_process(
    tmp_path: Path,
) -> None:
    config = ReportConfig(daily_at="08:00", channels=["mail"])
    clock = [_ns("2026-11-30T07:59:00+00:00")]
    engine, dispatcher, recorder = _follower_parts(tmp_path)
    first = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: rule_title(engine.ruleset, r),
                            clock=lambda: clock[0])  # fmt: skip
    _feed(engine, LINES)
    assert first.tick() is False  # 07:59: not yet
    first.stop()  # a restart before the time: what it counted is carried on
    dispatcher.store.close()

    engine, dispatcher, recorder = _follower_parts(tmp_path)
    clock[0] = _ns("2026-11-30T08:00:05+00:00")  # down at 08:00, back 5 s later: the digest is owed
    second = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: rule_title(engine.ruleset, r),
                             clock=lambda: clock[0])  # fmt: skip
    _feed(engine, LINES.replace("503", "200"))
    assert second.tick() is True
    assert second.tick() is False
    dispatcher.deliver_due("mail")
    second.stop()
    dispatcher.store.close()

    engine, dispatcher, recorder = _follower_parts(tmp_path)
    third = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: r, clock=lambda: clock[0])
    assert third.tick() is False  # restarted right after sending: not again
    clock[0] = _ns("2026-12-01T08:00:00+00:00")
    assert third.tick() is True  # the next day's
    dispatcher.deliver_due("mail")
    dispatcher.store.close()

    (digest,) = [p for p in recorder.payloads if p["date"] == "2026-12-01"]
    assert digest["requests"]["total"] == 0  # counted since the previous digest: nothing
    store = StateStore(tmp_path / STATE_FILE)
    ids = [row["alert_id"] for row in store.outbox.deliveries()]
    store.close()
    assert ids == ["digest-2026-11-30", "digest-2026-12-01"]


def test_the_digest_counts_requests_and_failures_of_both_processes(tmp_path: Path) -> None:
    config = ReportConfig(daily_at="08:00", channels=["mail"])
    clock = [_ns("2026-11-30T07:59:00+00:00")]
    for step in range(2):
        engine, dispatcher, recorder = _follower_parts(tmp_path)
        scheduler = DigestScheduler(config, dispatcher, lambda e=engine: e.metrics, lambda r: r, clock=lambda: clock[0])
        _feed(engine, LINES)
        if step == 1:
            clock[0] = _ns("2026-11-30T08:00:00+00:00")
            assert scheduler.tick() is True
            dispatcher.deliver_due("mail")
        scheduler.stop()
        dispatcher.store.close()
    (digest,) = recorder.payloads
    assert digest["id"] == "digest-2026-11-30"
    assert digest["requests"] == {
        "total": 4, "server_errors": 2, "error_percent": 50.0, "p95_seconds": 0.05, "p95_bound": True,
    }  # fmt: skip
    assert digest["payments"] == [{"provider": "stripe", "count": 2}]
    assert digest["payment_failures"] == 2
    assert digest["template"] == "digest"


def test_every_digest_template_renders_the_digest_of_the_examples() -> None:
    for kind in ("text", "email", "slack", "webhook"):
        result = CliRunner().invoke(main, ["report", str(EXAMPLES / "clipforge-api-text.log"), f"--digest={kind}"])
        assert result.exit_code == 0, result.output
        assert "2026-11-27" in result.output
    text = CliRunner().invoke(main, ["report", str(EXAMPLES / "clipforge-api-text.log"), "--digest"]).output
    assert "Requests: 286, 5xx: 30 (10.49 %), p95 5501 ms" in text
    assert "Payment webhook failures: 2: stripe 1, razorpay 1" in text
    assert "Incidents: 11 opened (7 critical), 11 resolved, 0 still open" in text


def test_the_email_subject_names_the_day_and_the_incidents() -> None:
    payload = {"title": "logpipe daily digest for 2026-11-30: 2 incidents opened, 1 resolved", "id": "digest-x"}
    assert Renderer().render("email.subject", payload, "digest") == payload["title"]


def test_probe_uptime_and_connection_errors_come_from_the_packs_metrics() -> None:
    digest = from_samples(
        Digest("2026-11-30", "UTC", 0, 1),
        {
            'clipforge_probe_checks_total{probe="api",outcome="up"}': 99.0,
            'clipforge_probe_checks_total{probe="api",outcome="down"}': 1.0,
            'clipforge_probe_checks_total{probe="db",outcome="up"}': 10.0,
            "clipforge_db_connection_errors_total": 3.0,
        },
        ["clipforge_redis_connection_errors_total"],
    )
    payload = digest.to_payload()
    assert payload["probes"] == [
        {"name": "api", "up": 99, "checks": 100, "uptime_percent": 99.0},
        {"name": "db", "up": 10, "checks": 10, "uptime_percent": 100.0},
    ]
    assert payload["connection_errors"] == {"postgres": 3, "redis": 0}
    assert payload["requests"]["total"] is None  # no request metric in the rule set: the digest leaves it out
    assert "Probe api: 99.0 % up (99 of 100 checks)" in Renderer().render("console", {**payload, "id": "d"}, "digest")


def test_the_digest_is_redacted_like_every_exit(tmp_path: Path) -> None:
    secret = "sk_live_51HqLyjWDarjtT1zdp7dcXoRzZ2dcLZ7F9bqXfJ5w"
    digest = from_samples(
        Digest("2026-11-30", "UTC", 0, 1), {f'clipforge_unhandled_exceptions_total{{type="Leak {secret}"}}': 2.0}
    )
    store = StateStore(tmp_path / STATE_FILE)
    recorder = Recorder("mail")
    dispatcher = Dispatcher(store, {"mail": recorder}, lambda _: [], Redactor())
    assert dispatcher.enqueue_payload("digest-2026-11-30", digest.to_payload(), ["mail"]) is True
    assert dispatcher.enqueue_payload("digest-2026-11-30", digest.to_payload(), ["mail"]) is False  # once
    dispatcher.deliver_due("mail")
    store.close()
    (sent,) = recorder.payloads
    assert secret not in str(sent)
    assert sent["exceptions"][0]["count"] == 2


def test_a_time_from_the_store_in_the_future_is_not_trusted_one_clock_jump_does_not_stop_the_digest(
    tmp_path: Path,
) -> None:
    """Issue 28, finding 13: the clock jumped a year ahead, a digest dated then went out, the clock was put back;
    the saved `last_date` held every digest back until that date, across restarts."""
    config = ReportConfig(daily_at="08:00", channels=["mail"])
    clock = [_ns("2026-11-30T07:59:00+00:00")]
    engine, dispatcher, recorder = _follower_parts(tmp_path)
    first = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: r, clock=lambda: clock[0])
    clock[0] = _ns("2026-11-30T08:00:01+00:00")
    assert first.tick() is True  # today's, on time
    clock[0] = _ns("2027-12-01T09:00:00+00:00")  # the clock jumps a year ahead: a digest for that day goes out
    assert first.tick() is True
    clock[0] = _ns("2026-11-30T12:00:00+00:00")  # put back the same day
    assert first.tick() is False
    first.stop()
    dispatcher.deliver_due("mail")
    dispatcher.store.close()

    engine, dispatcher, recorder = _follower_parts(tmp_path)  # restarted: the future date is still in the store
    second = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: r, clock=lambda: clock[0])
    assert second.tick() is False  # today's went out at 08:00
    clock[0] = _ns("2026-12-01T08:00:00+00:00")
    _feed(engine, LINES)
    assert second.tick() is True  # the next day's, not the next year's
    clock[0] = _ns("2026-12-02T08:00:00+00:00")
    assert second.tick() is True
    dispatcher.deliver_due("mail")
    second.stop()
    dispatcher.store.close()

    dates = [p["date"] for p in recorder.payloads]
    assert dates == ["2026-12-01", "2026-12-02"]
    (after,) = [p for p in recorder.payloads if p["date"] == "2026-12-01"]
    assert after["requests"]["total"] == 2  # counted since the morning, not since a year from now
    store = StateStore(tmp_path / STATE_FILE)
    ids = [row["alert_id"] for row in store.outbox.deliveries()]
    store.close()
    # the days up to the one sent ahead have ids of their own: the outbox keeps the early one's
    assert sorted(ids) == ["digest-2026-11-30", "digest-2026-12-01.1", "digest-2026-12-02.1", "digest-2027-12-01"]


def test_a_time_from_the_store_in_the_future_is_not_trusted_a_day_sent_early_is_sent_again_on_its_day(
    tmp_path: Path,
) -> None:
    config = ReportConfig(daily_at="08:00", channels=["mail"])
    clock = [_ns("2026-12-01T08:00:00+00:00")]  # the clock a day ahead: tomorrow's digest goes out today
    engine, dispatcher, recorder = _follower_parts(tmp_path)
    scheduler = DigestScheduler(config, dispatcher, lambda: engine.metrics, lambda r: r, clock=lambda: clock[0])
    clock[0] = _ns("2026-12-01T08:00:01+00:00")
    assert scheduler.tick() is True
    clock[0] = _ns("2026-11-30T08:30:00+00:00")  # put back
    assert scheduler.tick() is False
    clock[0] = _ns("2026-12-01T08:00:00+00:00")  # its real day: sent again, the early one's id kept apart
    assert scheduler.tick() is True
    dispatcher.deliver_due("mail")
    scheduler.stop()
    ids = [row["alert_id"] for row in dispatcher.store.outbox.deliveries()]
    dispatcher.store.close()
    assert ids == ["digest-2026-12-01", "digest-2026-12-01.1"]
    assert [p["date"] for p in recorder.payloads] == ["2026-12-01", "2026-12-01"]
