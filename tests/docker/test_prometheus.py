"""The pack's log-derived metrics through a real Prometheus (Debian's `prometheus` package, installed by .ci/run):
it scrapes a running `logpipe follow` of a container logging a known mix of requests, and its answers to the
queries an on-call person would type are checked against what the container logged."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.docker.test_follow import follow, logged
from tests.integration.receivers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SCRAPE_SECONDS = 1
WINDOW = 60  # the queries' range, [1m]
# one cycle of the container's traffic: (method, path, status, milliseconds, times)
CYCLE = [
    ("GET", "/api/v1/clips/clp_{n}", 200, 20, 16),
    ("POST", "/api/v1/clips/clp_{n}/render", 503, 40, 2),
    ("GET", "/api/v1/credits/balance", 200, 2000, 2),
]
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]  # rules/metrics.yml
ACCESS = re.compile(r"\[HTTP\] (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+)ms")


@pytest.fixture(scope="session")
def prometheus() -> str:
    binary = shutil.which("prometheus")
    if binary is None or shutil.which("promtool") is None:
        unavailable("Debian's prometheus package is not installed (apt-get install prometheus; .ci/run does)")
    return str(binary)


def _script() -> str:
    lines = []
    for method, path, status, ms, times in CYCLE:
        line = (
            f"[Nest] 1  - 11/27/2026, 9:05:02 AM     LOG [HTTP] {method} {path.format(n='$i')} {status} {ms}ms"
            ' - 120b - 10.42.1.7 \\"curl\\"'
        )
        lines.extend([f'echo "{line}"'] * times)
    body = "; ".join(lines)
    return f"i=0; while true; do i=$((i+1)); {body}; usleep 200000; done"


def _query(port: int, promql: str, at: float | None = None) -> float:
    """The query's one value (at `at`, else now); NaN while Prometheus has no answer for it yet."""
    query = {"query": promql} if at is None else {"query": promql, "time": f"{at:.3f}"}
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(query)
    answer = json.loads(urllib.request.urlopen(url, timeout=10).read())
    assert answer["status"] == "success", answer
    if at is None and not answer["data"]["result"]:
        return float("nan")
    (result,) = answer["data"]["result"]
    return float(result["value"][1])


def _scraped_a_window(port: int) -> float | None:
    """The time of Prometheus's latest scrape of logpipe once its samples cover a whole window, else None."""
    try:
        samples = _query(port, f"count_over_time(up{{job='logpipe'}}[{WINDOW}s])")
        latest = _query(port, "timestamp(up{job='logpipe'})")
    except OSError:  # not listening yet
        return None
    return latest if samples >= WINDOW / SCRAPE_SECONDS - 1 else None


def _logged_requests(container: Any, start: float, end: float) -> list[tuple[str, int, float]]:
    """(method, status, seconds) of each request the container logged with a Docker time in [start, end)."""
    requests = []
    for line in container.logs(timestamps=True).decode().splitlines():
        stamp, _, text = line.partition(" ")
        when = datetime.fromisoformat(stamp[:26] + "+00:00").timestamp()
        found = ACCESS.search(text)
        if found and start <= when < end:
            requests.append((found["method"], int(found["status"]), int(found["ms"]) / 1000))
    return requests


def _quantile(q: float, values: list[float]) -> float:
    """histogram_quantile over the pack's buckets, as Prometheus computes it (linear within the bucket)."""
    counts = [sum(1 for v in values if v <= bound) for bound in BUCKETS]
    rank = q * len(values)
    below, lower = 0, 0.0
    for bound, count in zip(BUCKETS, counts, strict=True):
        if count >= rank:
            return lower + (bound - lower) * (rank - below) / (count - below)
        below, lower = count, bound
    return BUCKETS[-1]


def test_prometheus_scrapes_the_metrics_and_its_queries_match_the_log(
    tmp_path: Path, container: Any, prometheus: str
) -> None:
    metrics_port, prometheus_port = free_port(), free_port()
    box = container(_script())
    process = follow(tmp_path, box.name, "events.jsonl", "--metrics-address", f"127.0.0.1:{metrics_port}",
                     until_exit=False)  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"global: {{scrape_interval: {SCRAPE_SECONDS}s, evaluation_interval: {SCRAPE_SECONDS}s}}\n"
        f"scrape_configs:\n  - job_name: logpipe\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    server_log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        logged(process, "reading")
        exposition = _wait_for_metrics(metrics_port)
        check = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True, check=False)
        assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
        assert "clipforge_http_requests_total{" in exposition.decode()

        def scraped() -> float | None:
            assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            assert process.poll() is None, process.log.read_text()[-2000:]  # type: ignore[attr-defined]
            return _scraped_a_window(prometheus_port)

        at = wait_until(scraped, what=f"Prometheus's scrapes of logpipe to cover {WINDOW} s")
        rate = _query(prometheus_port, "sum(rate(clipforge_http_requests_total[1m]))", at)
        share = _query(
            prometheus_port,
            'sum(rate(clipforge_http_requests_total{status_class="5xx"}[1m]))'
            " / sum(rate(clipforge_http_requests_total[1m]))",
            at,
        )
        p95 = _query(
            prometheus_port,
            "histogram_quantile(0.95, sum by (le) (rate(clipforge_http_request_duration_seconds_bucket[1m])))",
            at,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    requests = _logged_requests(box, at - WINDOW, at)
    assert len(requests) > 1000  # the container did log at ~100 lines/s
    assert rate == pytest.approx(len(requests) / WINDOW, rel=0.1)
    assert share == pytest.approx(sum(1 for _, status, _ in requests if status >= 500) / len(requests), abs=0.01)
    assert p95 == pytest.approx(_quantile(0.95, [seconds for _, _, seconds in requests]), abs=0.1)
    assert 1.0 < p95 <= 2.5  # the slow 10 % of requests (2 s) decide the 95th percentile


def _wait_for_metrics(port: int) -> bytes:
    def served() -> bytes:
        try:
            body: bytes = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        except OSError:
            return b""
        return body if b"clipforge_http_request_duration_seconds_bucket{" in body else b""

    return wait_until(served, what="the request metrics at /metrics")  # type: ignore[no-any-return]


def test_a_restarted_follower_does_not_count_its_warm_up_lines_again(tmp_path: Path, container: Any) -> None:
    """After a restart the follower re-reads up to an hour before its checkpoint to rebuild rule windows; those
    lines were counted by the previous run (Prometheus has them), so the new run counts only what is new."""
    sync = tmp_path / "sync"
    sync.mkdir()
    line = (
        '[Nest] 1  - 11/27/2026, 9:05:02 AM     LOG [HTTP] GET /api/v1/clips/clp_$i 200 20ms - 120b - 10.0.0.1 \\"x\\"'
    )
    box = container(
        f'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "{line}"; done;'
        f' while [ ! -f /sync/go ]; do usleep 50000; done; echo "{line}"; sleep 600',
        volumes={str(sync): {"bind": "/sync", "mode": "ro"}},
    )
    counts = []
    for run in ("first", "second"):
        port = free_port()
        process = follow(tmp_path, box.name, f"{run}.jsonl", "--metrics-address", f"127.0.0.1:{port}",
                         until_exit=False)  # fmt: skip
        try:
            if run == "second":
                logged(process, "reading")
                (sync / "go").touch()  # one new line, after the 40 the warm-up re-reads
            counts.append(_requests_counted(port, 40 if run == "first" else 1))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    assert counts == [40.0, 1.0]


def _requests_counted(port: int, expected: float) -> float:
    """clipforge_http_requests_total summed over its series, once it reaches `expected` (lines are counted in
    order: warm-up lines counted by mistake would be in by then too)."""

    def counted() -> float:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            return 0.0
        return sum(
            float(found.group(1))
            for found in re.finditer(r"^clipforge_http_requests_total\{[^}]*\} (\S+)$", body, re.MULTILINE)
        )

    return float(wait_until(lambda: (total := counted()) >= expected and total, what=f"{expected} requests counted"))
