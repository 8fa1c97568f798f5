"""`logpipe report` of the bundled examples, opened in a real headless Chromium (Debian's chromium and
chromium-driver, installed by .ci/run) through Selenium: the page loads offline without console errors, its three
charts drew with a point per minute, and its figures are the replay's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.report.collect import exception_label
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LOG = EXAMPLES / "clipforge-api-text.log"


def _replay() -> tuple[int, dict[str, float]]:
    """What `logpipe replay` and `logpipe metrics` say about the log: the notifications sent, and the samples."""
    replay = subprocess.run(
        [sys.executable, "-m", "logpipe", "replay", "--format", "jsonl", str(LOG)],
        capture_output=True,
        text=True,
        check=True,
    )
    metrics = CliRunner().invoke(main, ["metrics", str(LOG)])
    samples = {}
    for line in metrics.stdout.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return len(replay.stdout.splitlines()), samples


def test_the_report_opens_offline_draws_its_charts_and_shows_the_replays_figures(tmp_path: Path, browser: Any) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(LOG), "--out", str(out)])
    assert result.exit_code == 0, result.output
    browser.get(out.as_uri())
    browser.find_element("css selector", "#chart-latency .main-svg")  # waits until plotly rendered
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []  # it opens offline
    console = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert console == []

    minutes = 16  # 09:00 to 09:15 in the scripted timeline
    for chart in ("requests", "errors", "latency"):
        points = browser.execute_script(
            "const d = document.getElementById(arguments[0]);"
            "return [d.data[0].x.length, d.data[0].y.filter(v => v !== null).length,"
            " d.querySelectorAll('.scatterlayer .trace .point').length,"
            " d.querySelector('.scatterlayer .js-line').getAttribute('d').length];",
            f"chart-{chart}",
        )
        assert points[0] == minutes, chart
        assert points[2] == points[1] > 5, chart  # a marker per minute with a value (p95: with requests)
        assert points[3] > 50, chart  # and the line through them

    notifications, samples = _replay()

    def figure(name: str) -> str:
        return str(browser.find_element("css selector", f'[data-figure="{name}"]').text)

    requests = sum(v for k, v in samples.items() if k.startswith("clipforge_http_requests_total{"))
    errors = sum(v for k, v in samples.items() if k.startswith("clipforge_http_requests_total{") and "5xx" in k)
    payments = sum(v for k, v in samples.items() if k.startswith("clipforge_payment_webhook_failures_total{"))
    credits = sum(v for k, v in samples.items() if k.startswith("clipforge_credit_deduction_failures_total{"))
    assert figure("requests") == str(int(requests)) == "286"
    assert figure("server-errors") == str(int(errors))
    assert figure("notifications") == str(notifications) == "24"
    assert figure("payment-failures") == str(int(payments))
    assert figure("credit-failures") == str(int(credits))
    assert len(browser.find_elements("css selector", "[data-timeline-entry]")) == notifications
    request_sum = browser.execute_script(
        "return document.getElementById('chart-requests').data[0].y.reduce((a, b) => a + b, 0);"
    )
    assert request_sum * 60 == pytest.approx(requests)  # the chart's per-minute rates add up to the requests
    exceptions = {
        row.find_elements("css selector", "td")[0].text: int(row.find_elements("css selector", "td")[1].text)
        for row in browser.find_elements("css selector", "[data-exception]")
    }
    assert exceptions == {  # the metric's type="unknown" (no type in the line) is not shown as a type's name
        exception_label(key.split('"')[1]): int(value)
        for key, value in samples.items()
        if key.startswith("clipforge_unhandled_exceptions_total{")
    }
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    if os.environ.get("LOGPIPE_UPDATE_SCREENSHOT") == "1":  # how docs/report.png is made
        shutil.copy(shot, ROOT / "docs" / "report.png")
