"""The daily digest from a real `logpipe follow`: it reaches a real SMTP server (aiosmtpd) and a real HTTP
receiver exactly once, with logpipe stopped before the time, started after it, killed with -9 after sending and
started again; its figures are what the container logged, counted by both processes.

The digest's clock is a file the test writes (LOGPIPE_DIGEST_CLOCK_FILE, read at each tick of the schedule): the
test moves it past the scheduled time instead of waiting for it. The time is set an hour ahead of the wall clock,
so the report's period still holds what was logged (trends and incidents are stamped with the wall clock)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_follow import follow, handled, logged
from tests.docker.test_incidents import delivered, wait_until

pytestmark = pytest.mark.integration

ACCESS = "[Nest] 1  - 11/30/2026, 7:59:01 AM     LOG [HTTP] GET /api/v1/clips/clp_{i}/metadata {status} 23ms - 120b"
EXCEPTION = (
    "[Nest] 1  - 11/30/2026, 7:59:04 AM   ERROR [ExceptionsHandler] TypeError: Cannot read properties of undefined "
    "(reading renditions)"
)
STRIPE = (
    "[Nest] 1  - 11/30/2026, 7:59:03 AM   ERROR [StripeWebhookController] Webhook signature verification failed: "
    "StripeSignatureVerificationError: No signatures found matching the expected signature for payload"
)


class DigestClock:
    """The time logpipe's digest schedule reads (LOGPIPE_DIGEST_CLOCK_FILE), set by the test."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = tmp_path / "digest-clock"
        self.set(dt.datetime.now(dt.UTC))
        monkeypatch.setenv("LOGPIPE_DIGEST_CLOCK_FILE", str(self.path))  # for the followers started from here

    def set(self, moment: dt.datetime) -> None:
        staged = self.path.with_suffix(".new")
        staged.write_text(str(int(moment.timestamp() * 10**9)))
        staged.rename(self.path)  # whole: a tick never reads half a number


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DigestClock:
    return DigestClock(tmp_path, monkeypatch)


def _stop(process: Any, how: signal.Signals) -> None:
    if process.poll() is None:
        os.killpg(process.pid, how)
    process.wait(timeout=30)


def write_config(tmp_path: Path, due: dt.datetime, smtp_receiver: Any, http_receiver: Any) -> None:
    """Both channels get the digest and nothing else; the digest is due at `due` (UTC, to the second)."""
    (tmp_path / "logpipe.yml").write_text(
        "state_dir: state\n"
        f"channels:\n  mail: {{url: '{smtp_receiver.url()}'}}\n"
        f"  hook: {{url: '{http_receiver.url}/hooks', kind: webhook}}\n"
        "routes: {critical: [], warning: [], info: []}\n"  # only the digest goes to the channels
        "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
        f"report: {{daily_at: '{due:%H:%M:%S}', timezone: UTC, channels: [mail, hook], link: 'https://grafana.test/d/api'}}\n"
    )


def an_hour_ahead() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)


def restarted_sends_only_the_next_days(
    tmp_path: Path, box: Any, clock: DigestClock, due: dt.datetime, receivers: tuple[Any, Any]
) -> None:
    """A follower started after the day's digest went out: it knows (its log says the last one sent), and sends
    the next day's at its time, and nothing before it."""
    smtp_receiver, http_receiver = receivers
    clock.set(due + dt.timedelta(seconds=30))
    again = follow(tmp_path, box.name, "events-again.jsonl", until_exit=False)
    try:
        logged(again, f'"last_sent":"{due.date().isoformat()}"')  # "digest scheduled", from the state store
        clock.set(due + dt.timedelta(days=1))
        smtp_receiver.wait_for(2)
        http_receiver.wait_for(2)
    finally:
        _stop(again, signal.SIGTERM)
    dates = [due.date(), due.date() + dt.timedelta(days=1)]
    assert [r.json()["date"] for r in http_receiver.requests] == [date.isoformat() for date in dates]
    assert [m["subject"].split(":")[0] for m in smtp_receiver.messages] == [
        f"logpipe daily digest for {date.isoformat()}" for date in dates
    ]


def test_a_digest_is_sent_at_its_time_by_a_running_follower_and_not_again_after_a_restart(
    tmp_path: Path, container: Any, smtp_receiver: Any, http_receiver: Any, clock: DigestClock
) -> None:
    due = an_hour_ahead()
    write_config(tmp_path, due, smtp_receiver, http_receiver)
    box = container("echo '" + ACCESS.format(i=1, status=200) + "'; sleep 600")
    first = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(first, "digest scheduled")
        handled(tmp_path / "events.jsonl", 1)
        clock.set(due)  # its time comes while it runs
        (mail,) = smtp_receiver.wait_for(1)
        (hook,) = http_receiver.wait_for(1)
    finally:
        _stop(first, signal.SIGTERM)
    assert hook.json()["requests"]["total"] == 1
    assert mail["subject"].startswith(f"logpipe daily digest for {due.date().isoformat()}: ")
    restarted_sends_only_the_next_days(tmp_path, box, clock, due, (smtp_receiver, http_receiver))


def test_a_digest_due_while_logpipe_was_down_is_sent_once_across_restarts(
    tmp_path: Path,
    container: Any,
    smtp_receiver: Any,
    http_receiver: Any,
    clock: DigestClock,
    request: pytest.FixtureRequest,
) -> None:
    due = an_hour_ahead()
    write_config(tmp_path, due, smtp_receiver, http_receiver)
    lines = [ACCESS.format(i=i, status=503 if i in (3, 7) else 200) for i in range(10)] + [STRIPE, EXCEPTION]
    go = tmp_path / "go"
    go.mkdir()
    script = (
        "while [ ! -f /go/now ]; do sleep 0.1; done; " + "".join(f"echo '{line}'; " for line in lines) + "sleep 600"
    )
    state = tmp_path / "state" / "state.sqlite"
    box = container(script, volumes={str(go): {"bind": "/go", "mode": "ro"}})

    first = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(first, "digest scheduled")
        logged(first, "reading")
        (go / "now").write_text("")  # logged after logpipe started: inside the digest's first period
        handled(tmp_path / "events.jsonl", 12)
    finally:
        _stop(first, signal.SIGTERM)  # down over the scheduled time; what it counted is saved
    clock.set(due + dt.timedelta(seconds=5))  # the time passes while no logpipe runs

    second = follow(tmp_path, box.name, "events2.jsonl", until_exit=False)
    try:
        (mail,) = smtp_receiver.wait_for(1)
        (hook,) = http_receiver.wait_for(1)
        # marked delivered (a kill between sending and marking repeats that one send: the outbox is at least once
        # per receiver, and only the webhook's Idempotency-Key lets a receiver drop the repeat)
        for sink in ("mail", "hook"):
            wait_until(lambda sink=sink: delivered(state, sink) == 1, what=f"the digest marked delivered to {sink}")
    finally:
        _stop(second, signal.SIGKILL)  # right after sending: the state store alone says the day's digest is out

    restarted_sends_only_the_next_days(tmp_path, box, clock, due, (smtp_receiver, http_receiver))

    date = due.date().isoformat()
    body = hook.json()
    assert hook.headers["Idempotency-Key"] == f"digest-{date}"
    assert (body["kind"], body["date"]) == ("digest", date)
    assert body["requests"]["total"] == 10
    assert body["requests"]["server_errors"] == 2
    assert body["payments"] == [{"provider": "stripe", "count": 1}]
    assert body["incidents"]["opened"] >= 1  # the Stripe failure's incident (critical), kept from the channels
    assert "stripe-webhook-signature" in {row["rule"] for row in body["top_rules"]}
    assert mail["subject"].startswith(f"logpipe daily digest for {date}: ")
    html = mail.get_body(("html",)).get_content()
    assert '<td id="requests">10</td>' in html
    assert "20.0 %" in html
    assert "https://grafana.test/d/api" in html
    assert f"clipforge-report-{date}.html" in html  # the body says what is attached
    assert body["report_file"] == f"clipforge-report-{date}.html"  # the webhook names it too

    # the full report rides along as an attachment, built by the second process from the first one's trends
    (report,) = mail.iter_attachments()
    assert report.get_filename() == f"clipforge-report-{date}.html"
    assert report.get_content_type() == "text/html"
    page = report.get_payload(decode=True).decode()  # the file's bytes, as a mail client saves it
    assert '<b data-figure="requests">10</b>' in page
    assert '<b data-figure="server-errors">2</b>' in page
    assert '<tr data-exception><td><code>TypeError</code></td><td class="n">1</td></tr>' in page
    for chart in ("requests", "errors", "latency"):
        assert f'id="chart-{chart}"' in page  # plotly's chart divs, with plotly.js inlined to draw them
    assert "Plotly.newPlot" in page
    assert "stripe-webhook-signature" in page  # the incident timeline
    if shutil.which("chromium") or os.environ.get("CI") == "true":  # CI has it (.ci/run): the fixture fails without
        opened_in_a_browser(page, tmp_path / "report.html", request.getfixturevalue("browser"))


def opened_in_a_browser(page: str, path: Path, browser: Any) -> None:
    """The attachment as its reader opens it: offline, without console errors, its charts drawn with their points."""
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())
    browser.find_element("css selector", "#chart-latency .main-svg")  # waits until plotly rendered
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    assert [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")] == []
    for chart in ("requests", "errors", "latency"):
        values, markers = browser.execute_script(
            "const d = document.getElementById(arguments[0]);"
            "return [d.data[0].y.filter(v => v !== null).length,"
            " d.querySelectorAll('.scatterlayer .trace .point').length];",
            f"chart-{chart}",
        )
        assert markers == values >= 1, chart
    requests = browser.execute_script(
        "return document.getElementById('chart-requests').data[0].y.reduce((a, b) => a + b, 0);"
    )
    assert requests * 60 == pytest.approx(10)  # the per-minute rates add up to the requests logged
