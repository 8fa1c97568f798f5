"""One Report, two sources: the bundled example log replayed into a follower's state (a real engine, incident book,
state store and trend recorder on the log's clock), rebuilt with report/fromstate.py, gives the figures the saved
log's report gives; `logpipe report --state-dir` renders it; the digest attaches it, redacted."""

from __future__ import annotations

import dataclasses
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import Engine, load_rules
from logpipe.engine.metrics.model import MetricSet
from logpipe.event import Event, Origin
from logpipe.incidents.book import IncidentBook
from logpipe.pipeline import parse_lines, run_incidents
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer
from logpipe.report.attachment import REPORTS_DIR, attachment, redacted
from logpipe.report.collect import Report, build_report
from logpipe.report.digest import rule_title
from logpipe.report.fromstate import follower_report, load_report
from logpipe.report.html import render_html
from logpipe.report.schedule import ReportConfig
from logpipe.report.scheduler import DigestScheduler
from logpipe.report.trends import MINUTE, TRENDS_FILE, TrendRecorder, TrendStore
from logpipe.sinks.apprise import AppriseChannel
from logpipe.sinks.dispatcher import Dispatcher
from logpipe.sources.file import read_lines
from logpipe.state.directory import STATE_FILE
from logpipe.state.store import StateStore
from tests.conftest import EXAMPLES

LOG = EXAMPLES / "clipforge-api-text.log"
SECRET = "AKIAIOSFODNN7EXAMPLE"  # an AWS access key id, as a log might leak it


def _events() -> list[Event]:
    with LOG.open("rb") as source:
        return list(parse_lines(read_lines(source, Origin("file", LOG.name))))


def _on_the_logs_clock(events: Iterable[Event], recorder: TrendRecorder) -> Iterator[Event]:
    """The recorder flushed at each minute of the log, as a follower reading it live would."""
    last: int | None = None
    for event in events:
        if last is not None and event.time // MINUTE != last // MINUTE:
            recorder.flush(last)
        yield event
        last = event.time
    if last is not None:
        recorder.flush(last)


@pytest.fixture(scope="module")
def follower_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """A state directory as a follower of the example log leaves it: trends and incidents; (dir, first, last)."""
    state = tmp_path_factory.mktemp("state")
    rules = load_rules(None)
    engine = Engine(rules, metrics=MetricSet(rules.metrics))
    book = IncidentBook(rules)
    recorder = TrendRecorder(TrendStore(state / TRENDS_FILE), lambda: engine.metrics, 31 * 86_400 * 10**9)
    events = _events()
    for _ in run_incidents(_on_the_logs_clock(events, recorder), engine, book):
        pass
    recorder.store.close()
    store = StateStore(state / STATE_FILE)
    store.progress.save({}, {}, book.snapshot())
    store.close()
    return state, events[0].time, events[-1].time


@pytest.fixture(scope="module")
def from_log() -> Report:
    return build_report(_events(), load_rules(None), LOG.name)


def test_the_followers_report_has_the_saved_logs_figures(
    follower_state: tuple[Path, int, int], from_log: Report
) -> None:
    state, first, last = follower_state
    rules = load_rules(None)
    report = load_report(state, first, last, "host", lambda rule: rule_title(rules, rule))
    assert (report.requests, report.server_errors) == (from_log.requests, from_log.server_errors) == (286, 30)
    # a minute without a row is one no follower ran in (here: the log's quiet minutes, no flush in them)
    assert {m.start: (m.requests, m.server_errors) for m in report.minutes if m.requests} == {
        m.start: (m.requests, m.server_errors) for m in from_log.minutes if m.requests
    }
    assert report.exceptions == from_log.exceptions
    assert report.connection_errors == {"postgres": 6, "redis": 4}  # as `logpipe metrics` of the log counts them
    assert (report.payments.by_label, report.credits.by_label) == (
        from_log.payments.by_label,
        from_log.credits.by_label,
    )
    assert report.incidents == from_log.incidents == 11
    # the users affected: the incidents' `summary:` user values (and a user id in a group) instead of the events'
    assert (report.payments.users, report.credits.users) == (from_log.payments.users, from_log.credits.users)
    assert report.credits.users == {"usr_7f3a91": 1, "usr_c01d22": 1}
    assert {entry.key for entry in report.timeline} == {entry.key for entry in from_log.timeline}
    assert sum(entry.status == "resolved" for entry in report.timeline) == 11
    # p95 from the histogram: the upper bound of the bucket holding the exact figure
    assert from_log.p95_ms is not None
    assert report.p95_ms is not None
    assert from_log.p95_ms <= report.p95_ms
    assert report.from_state
    assert any("upper bound" in note for note in report.notes)


def test_report_state_dir_writes_the_same_page_and_summary(
    follower_state: tuple[Path, int, int], tmp_path: Path
) -> None:
    state, _, _ = follower_state
    out = tmp_path / "report.html"
    # the example log is of 2026-11-27, days before this clock: the longest --hours there is (ten years)
    result = CliRunner().invoke(main, ["report", "--state-dir", str(state), "--hours", "87600", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<b data-figure="requests">286</b>' in page
    assert '<b data-figure="server-errors">30</b>' in page
    assert 'id="chart-requests"' in page
    assert 'id="chart-latency"' in page
    assert "upper bound of the histogram bucket" in page
    assert '<b data-figure="postgres-errors">6</b>' in page
    assert "286" in result.stdout
    assert "report written to" in result.output


def test_report_state_dir_without_a_state_store_says_so_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--state-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: no state store at ")


def test_the_report_data_is_redacted_before_it_is_rendered(from_log: Report) -> None:
    leaky = dataclasses.replace(
        from_log,
        error_messages=Counter({f"S3 upload failed with key {SECRET}": 1}),
        exceptions=Counter({f"Error: {SECRET}": 1}),
        timeline=[dataclasses.replace(from_log.timeline[0], detail=f"key={SECRET}")],
    )
    clean = redacted(leaky, Redactor())
    assert SECRET not in repr(clean)
    assert SECRET not in render_html(clean)
    assert (clean.requests, clean.error_messages) == (286, Counter({"S3 upload failed with key [REDACTED]": 1}))


def test_the_email_channel_attaches_only_a_report_file_from_its_directory(tmp_path: Path) -> None:
    channel = AppriseChannel("mail", "mailto://127.0.0.1:1?to=a@b.test", Renderer(), tmp_path)
    name = "clipforge-report-2026-11-30.html"
    assert channel._report({"report_file": name}) is None  # not written (a cleaned state directory): sent without
    (tmp_path / name).write_text("<html></html>")
    (tmp_path / "secrets.html").write_text("x")
    assert channel._report({"report_file": name}) == str(tmp_path / name)
    assert channel._report({"report_file": "secrets.html"}) is None
    assert channel._report({"report_file": f"../{tmp_path.name}/{name}"}) is None
    assert channel._report({"title": "an alert"}) is None


class Kept:
    """A channel that keeps what it was given (the real email channel is tests/docker/test_digest.py's)."""

    def __init__(self, name: str, email: bool) -> None:
        self.name, self.email = name, email
        self.payloads: list[dict[str, Any]] = []

    def deliver(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)


def _digest_to(channel: Kept, state: Path, first: int, last: int, tmp_path: Path) -> dict[str, Any]:
    """The digest a follower with `state` sends to `channel` at the end of the example log."""
    for name in (STATE_FILE, TRENDS_FILE):  # a copy: the digest adds its own rows
        (tmp_path / name).write_bytes((state / name).read_bytes())
    store = StateStore(tmp_path / STATE_FILE)
    dispatcher = Dispatcher(store, {channel.name: channel}, lambda _: [], Redactor())
    rules = load_rules(None)
    engine = Engine(rules, metrics=MetricSet(rules.metrics))
    recorder = TrendRecorder(TrendStore(tmp_path / TRENDS_FILE), lambda: engine.metrics, 31 * 86_400 * 10**9,
                             clock=lambda: last)  # fmt: skip
    store.records.save_digest_state("daily", {"last_date": "", "since": first, "watching_since": first, "counts": {}})
    scheduler = DigestScheduler(
        ReportConfig(daily_at="09:15", channels=[channel.name]), dispatcher, lambda: engine.metrics, lambda r: r,
        clock=lambda: last, report=follower_report(recorder, store, "host", lambda r: r),
        reports_dir=tmp_path / REPORTS_DIR,
    )  # fmt: skip
    assert scheduler.tick() is True
    dispatcher.deliver_due(channel.name)
    assert scheduler.tick() is False
    recorder.store.close()
    store.close()
    (payload,) = channel.payloads
    return payload


def test_the_digest_attaches_the_report_of_its_period_once(
    follower_state: tuple[Path, int, int], tmp_path: Path
) -> None:
    payload = _digest_to(Kept("mail", email=True), *follower_state, tmp_path)
    assert payload["report_file"] == "clipforge-report-2026-11-27.html"
    path = attachment(tmp_path / REPORTS_DIR, payload["report_file"])
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert '<b data-figure="requests">286</b>' in path.read_text()


def test_a_digest_without_an_email_channel_writes_no_report(
    follower_state: tuple[Path, int, int], tmp_path: Path
) -> None:
    payload = _digest_to(Kept("hook", email=False), *follower_state, tmp_path)
    assert (payload["id"], payload["report_file"]) == ("digest-2026-11-27", None)  # the digest itself goes out
    assert not (tmp_path / REPORTS_DIR).exists()
