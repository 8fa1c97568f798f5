"""`logpipe report` without a browser: what the page and the terminal summary say about the bundled examples."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import RuleSet, load_rules
from logpipe.event import Event, Origin
from logpipe.pipeline import parse_lines
from logpipe.report.collect import build_report, percentile
from logpipe.sources.file import read_lines
from logpipe.sources.probes.http import probe_event
from tests.conftest import EXAMPLES


def _report(name: str, pack: RuleSet):  # type: ignore[no-untyped-def]
    with (EXAMPLES / name).open("rb") as stream:
        return build_report(parse_lines(read_lines(stream, Origin("file", name))), pack, name)


def test_the_three_example_formats_give_the_same_report() -> None:
    """The examples are one scripted timeline in three log formats: the same figures come out of each."""
    pack = load_rules()  # once: loading compiles every pattern
    names = ("clipforge-api-text.log", "clipforge-api-json.log", "clipforge-api-pino.log")
    reports = [_report(name, pack) for name in names]
    figures = [
        (r.requests, r.server_errors, r.p95_ms, len(r.notifications), r.incidents, r.payments, r.credits,
         dict(r.exceptions), [(m.requests, m.server_errors, m.p95_ms) for m in r.minutes])
        for r in reports
    ]  # fmt: skip
    assert figures[0] == figures[1] == figures[2]
    text = reports[0]
    assert (text.requests, text.server_errors, len(text.notifications), text.incidents) == (286, 30, 24, 11)
    assert text.payments.by_label == {"stripe": 1, "razorpay": 1}
    assert text.credits.by_label == {"insufficient_balance": 1, "deadlock": 1}
    assert set(text.credits.users) == {"usr_7f3a91", "usr_c01d22"}
    assert text.exceptions["TypeError"] == 30
    assert sum(m.requests for m in text.minutes) == text.requests
    assert [entry.key for entry in text.timeline][:2] == ["stripe-webhook-signature", "razorpay-webhook-signature"]


def test_report_writes_one_html_file_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(EXAMPLES / "clipforge-api-json.log"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inlined, not fetched
    assert html.count('class="plotly-graph-div"') == 3
    assert '<b data-figure="requests">286</b>' in html
    assert re.search(r"requests\W+286", result.stdout)
    assert "stripe-webhook-signature" in result.stdout


def test_report_names_an_unwritable_output_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", str(EXAMPLES / "clipforge-api-json.log"), "--out", str(tmp_path / "no" / "r.html")]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: cannot write")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([float(v) for v in range(1, 101)], 0.95) == 95.0
    assert percentile([5.0], 0.95) == 5.0


def test_probe_and_stats_events_as_the_sources_emit_them_fill_probe_uptime_and_memory() -> None:
    from logpipe.sources.probes.stats import stats_event

    def probe(ok: bool, at: int) -> Event:
        fields = {"name": "api", "ok": ok, "duration_ms": 3.0, "consecutive_failures": 0}
        if ok:
            fields["status"] = 200
        else:
            fields.update(error="timeout", detail="read timed out")
        return probe_event(at, fields)

    start = 1_795_770_000_000_000_000
    memory = {"used": 50 * 2**20, "limit": 64 * 2**20, "percent": 78.1}
    events = [
        probe(True, start),
        probe(False, start + 10**10),
        stats_event("clipforge-api", "0123", start, {"container": "clipforge-api", "memory": memory}),
    ]
    report = build_report(iter(events), load_rules(), "readings")
    assert report.probes == {"api": (1, 2)}
    assert report.memory == {"clipforge-api": [(start, 50.0)]}
