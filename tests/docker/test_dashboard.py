"""deploy/grafana/logpipe.json and deploy/prometheus/logpipe-rules.yml in a real Prometheus (Debian's) that scrapes
a real `logpipe follow` of a container logging ClipForge's traffic with payment, credit, Postgres and Redis
failures in it: every PromQL expression of the dashboard returns data, and the rules load and evaluate.

No Grafana can be installed here (not in Debian's archive, PyPI or npm), so with LOGPIPE_SCREENSHOTS=DIR each
panel's query is also drawn in Prometheus' own graph page by headless Chromium and saved as DIR/<panel>.png."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.docker.test_follow import follow, logged
from tests.docker.test_prometheus import prometheus  # noqa: F401 - the fixture
from tests.integration.receivers import HttpReceiver, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

DASHBOARD = ROOT / "deploy" / "grafana" / "logpipe.json"
RULES = ROOT / "deploy" / "prometheus" / "logpipe-rules.yml"
NEST = "[Nest] 1  - 11/27/2026, 9:05:02 AM"
LINES = [
    f'{NEST}     LOG [HTTP] GET /api/v1/clips/clp_$i 200 20ms - 120b - 10.42.1.7 \\"curl\\"',
    f'{NEST}     LOG [HTTP] POST /api/v1/clips/clp_$i/render 503 40ms - 120b - 10.42.1.7 \\"curl\\"',
    f'{NEST}     LOG [HTTP] GET /api/v1/credits/balance 200 900ms - 120b - 10.42.1.7 \\"curl\\"',
    f"{NEST}   ERROR [StripeWebhookController] Webhook signature verification failed: No signatures found matching"
    " the expected signature for payload",
    f"{NEST}   ERROR [CreditsService] Credit deduction failed for user usr_$i: insufficient balance (balance=2,"
    " required=5)",
    f"{NEST}   ERROR [ClipsService] Connection terminated unexpectedly",
    f"{NEST}   ERROR [RedisService] Error: connect ECONNREFUSED 172.18.0.4:6379",
]


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every query in the dashboard."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(panel["title"], target["expr"]) for panel in panels for target in panel.get("targets", [])]


def _api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    answer = json.loads(urllib.request.urlopen(url, timeout=10).read())
    assert answer["status"] == "success", answer
    return answer["data"]


def test_every_dashboard_query_returns_data_and_the_rules_load(tmp_path: Path, container: Any, prometheus: str) -> None:  # noqa: F811
    assert len(dashboard_queries()) == 13
    receiver = HttpReceiver().start()
    receiver.plan.append((500, {}, b"down for a moment"))  # one failed delivery: the dashboard's failure panel
    metrics_port, prometheus_port = free_port(), free_port()
    (tmp_path / "logpipe.yml").write_text(
        f"state_dir: state\nchannels:\n  oncall: {{url: '{receiver.url}/hooks', kind: webhook}}\n"
        "outbox: {initial_backoff: 200ms, max_backoff: 1s}\n"
    )
    body = "; ".join(f'echo "{line}"' for line in LINES)
    box = container(f"i=0; while true; do i=$((i+1)); {body}; usleep 300000; done")
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{metrics_port}",
                     until_exit=False)  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\n"
        f"scrape_configs:\n  - job_name: logpipe\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    server = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        stdout=(tmp_path / "prometheus.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    missing: list[str] = []

    def every_query_has_data() -> bool:
        assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
        assert process.poll() is None, process.log.read_text()[-2000:]  # type: ignore[attr-defined]
        missing[:] = [
            title
            for title, expr in dashboard_queries()
            if not _api(prometheus_port, "query", query=expr, time=f"{time.time():.3f}")["result"]
        ]
        return not missing

    try:
        logged(process, "reading")
        wait_until(every_query_has_data, what=lambda: f"data for the panels {missing}")
        (group,) = _api(prometheus_port, "rules")["groups"]
        assert group["name"] == "logpipe"
        assert [(rule["name"], rule["health"]) for rule in group["rules"]] == [
            (name, "ok")
            for name in ("LogpipeDown", "LogpipeReadLagGrowing", "LogpipeOutboxBackingUp", "LogpipeReloadFailed",
                         "LogpipeRulesDisabled")
        ]  # fmt: skip
        shots = os.environ.get("LOGPIPE_SCREENSHOTS")
        if shots:  # for people to look at: a minute and a half of each series first
            started = time.monotonic()
            wait_until(lambda: time.monotonic() - started > 90 and every_query_has_data(), 150, "90 s of samples")
            _screenshots(prometheus_port, Path(shots))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        receiver.stop()


def _screenshots(port: int, out: Path) -> None:
    """Each panel's query in Prometheus' graph page (the last 2 minutes), saved as a PNG per panel."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        for title, expr in dashboard_queries():
            query = urllib.parse.urlencode({"g0.expr": expr, "g0.tab": "0", "g0.range_input": "2m"})
            driver.get(f"http://127.0.0.1:{port}/graph?{query}")
            # Debian builds Prometheus' classic page: a rickshaw graph, one svg path per series
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".rickshaw_graph svg path.path"))
            name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            driver.save_screenshot(str(out / f"{name}.png"))
    finally:
        driver.quit()
