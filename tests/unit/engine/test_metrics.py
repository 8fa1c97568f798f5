"""Log-derived metrics: routes normalised, labels bounded, cardinality capped with the overflow counted, bad
definitions refused at load with file:line, and the examples workflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.engine import Engine, RuleLoadError
from logpipe.engine.metrics.export import parse_sample, samples
from logpipe.engine.metrics.model import MetricSet
from logpipe.engine.metrics.paths import PathNormaliser
from tests.conftest import EXAMPLES
from tests.unit.engine.helpers import HTTP_EXTRACT, event, ruleset

IDS = {":id": r"[a-z]{2,8}_[A-Za-z0-9]+|\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"}


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/v1/clips/clp_8f2k/metadata", "/api/v1/clips/:id/metadata"),
        ("/api/v1/clips/clp_8f2k", "/api/v1/clips/:id"),
        ("/api/v1/clips?page=2", "/api/v1/clips"),
        ("/api/v1/users/42/orders/order_Nf3kq9#x", "/api/v1/users/:id/orders/:id"),
        ("/api/v1/jobs/6f1c2a4e-0b7d-4c11-9a3e-2f5d8c7b1a90", "/api/v1/jobs/:id"),
        ("/api/v1/health", "/api/v1/health"),
        ("/api/v1/clips/clp_8f2kv1x/v1", "/api/v1/clips/:id/v1"),
    ],
)
def test_routes_put_placeholders_for_ids(path: str, route: str) -> None:
    assert PathNormaliser(IDS).normalise(path) == route


def _metrics(tmp_path: Path, definition: str) -> tuple[Engine, MetricSet]:
    rules = ruleset(tmp_path, HTTP_EXTRACT + "metrics:\n" + definition)
    metric_set = MetricSet(rules.metrics)
    return Engine(rules, metrics=metric_set), metric_set


COUNTER = """
  - name: requests_total
    type: counter
    help: requests
    match: {http.status: {exists: true}}
    labels:
      route: {field: http.path, route: {':id': 'clp_\\w+'}}
      status_class: {field: http.status, status_class: true}
      method: {field: http.method, values: [GET, POST]}
    max_series: 2
    examples:
      - lines: ['GET /api/v1/clips/clp_1 200 3ms']
        samples: {'requests_total{route="/api/v1/clips/:id",status_class="2xx",method="GET"}': 1}
"""


def test_beyond_max_series_labels_go_to_other_and_the_overflow_is_counted(tmp_path: Path) -> None:
    engine, metric_set = _metrics(tmp_path, COUNTER)
    for number, (method, path, status) in enumerate(
        [("GET", "/a/clp_1", 200), ("GET", "/a/clp_2", 200), ("PURGE", "/b", 503), ("GET", "/c", 404),
         ("GET", "/d", 200), ("GET", "/a/clp_3", 200)]
    ):  # fmt: skip
        engine.process(event(number, f"{method} {path} {status} 5ms", logger="HTTP"))
    assert samples(metric_set) == {
        'requests_total{route="/a/:id",status_class="2xx",method="GET"}': 3.0,
        'requests_total{route="/b",status_class="5xx",method="other"}': 1.0,
        'requests_total{route="other",status_class="other",method="other"}': 2.0,
        'logpipe_metric_overflow_total{metric="requests_total"}': 2.0,
        'logpipe_metric_no_value_total{metric="requests_total"}': 0.0,
    }


def test_a_histogram_counts_each_value_in_its_bucket_and_skips_non_numbers(tmp_path: Path) -> None:
    engine, metric_set = _metrics(
        tmp_path,
        """
  - name: duration_seconds
    type: histogram
    help: d
    match: {http.status: {exists: true}}
    value: took
    scale: 0.001
    buckets: [0.01, 0.1, 1]
    examples:
      - lines: ['GET / 200 3ms']
        samples: {}
""",
    )
    for number, took in enumerate([5, 10, 50, 2000, "slow"]):
        engine.process(event(number, "GET / 200 1ms", logger="HTTP", took=took))
    got = samples(metric_set)
    assert {key: value for key, value in got.items() if key.startswith("duration")} == {
        'duration_seconds_bucket{le="0.01"}': 2.0,  # 10 ms is <= 0.01 s: Prometheus buckets are inclusive
        'duration_seconds_bucket{le="0.1"}': 3.0,
        'duration_seconds_bucket{le="1.0"}': 3.0,
        'duration_seconds_bucket{le="+Inf"}': 4.0,
        "duration_seconds_count": 4.0,
        "duration_seconds_sum": pytest.approx(2.065),
    }
    assert got['logpipe_metric_no_value_total{metric="duration_seconds"}'] == 1.0


def test_a_top_level_any_counts_an_event_once_even_when_two_branches_hold(tmp_path: Path) -> None:
    engine, metric_set = _metrics(
        tmp_path,
        """
  - name: failures_total
    type: counter
    help: f
    match:
      any:
        - text: {regex: 'webhook failed'}
        - text: {regex: 'stripe'}
    examples:
      - lines: ['webhook failed for stripe']
        samples: {failures_total: 1}
""",
    )
    engine.process(event(0, "webhook failed for stripe"))
    engine.process(event(1, "stripe said no"))
    engine.process(event(2, "all good"))
    assert samples(metric_set, only="failures_total") == {"failures_total": 2.0}


@pytest.mark.parametrize(
    ("definition", "line", "problem"),
    [
        ("name: requests\n    type: counter", 2, "metrics[0].name: a counter's name ends in _total"),
        ("name: d_seconds\n    type: histogram\n    value: x", 2, "metrics[0].buckets: a histogram needs `buckets`"),
        ("name: d\n    type: histogram\n    value: x\n    buckets: [1, 1]", 5, "metrics[0].buckets: buckets must be"),
        ("name: logpipe_x_total\n    type: counter", 2, "metrics[0].name: names starting with 'logpipe_'"),
        ("name: g\n    type: gauge", 2, "metrics[0].value: a gauge needs `value`"),
        (
            "name: x_total\n    type: counter\n    labels: {a: {field: b, regex: '(x'}}",
            4,
            "metrics[0].labels.a.regex: invalid",
        ),
        ("name: x_total\n    type: counter\n    colour: red", 4, "metrics[0].colour: unknown key 'colour'"),
    ],
)
def test_a_bad_metric_is_refused_with_file_line_and_field(
    tmp_path: Path, definition: str, line: int, problem: str
) -> None:
    text = f"""metrics:
  - {definition}
    help: h
    match: {{level: error}}
    examples: [{{lines: [x], samples: {{}}}}]
"""
    with pytest.raises(RuleLoadError) as error:
        ruleset(tmp_path, text)
    assert str(error.value).startswith(f"{tmp_path / 'rules.yml'}:{line}: {problem}")


def test_rules_test_reports_a_metric_example_that_exports_other_samples(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(
        HTTP_EXTRACT + "metrics:" + COUNTER.replace('method="GET"}\': 1', 'method="POST"}\': 1')
    )
    result = CliRunner().invoke(main, ["rules", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL metric requests_total (1 examples)" in result.output
    assert 'expected requests_total{method="POST",route="/api/v1/clips/:id",status_class="2xx"} 1, not exported' in (
        result.output
    )
    assert "not in the example's samples" in result.output


def test_metrics_command_prints_the_exposition_of_a_saved_log() -> None:
    """The three example logs are the same scripted traffic in three formats: the same requests are counted."""
    outputs = []
    for name in ("clipforge-api-text.log", "clipforge-api-json.log", "clipforge-api-pino.log"):
        result = CliRunner().invoke(main, ["metrics", str(EXAMPLES / name)])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    lines = dict(line.rsplit(" ", 1) for line in outputs[0].splitlines() if not line.startswith("#"))
    assert lines[
        'clipforge_http_requests_total{method="POST",route="/api/v1/clips/:id/render",status_class="5xx"}'
    ] == ("9.0")
    assert lines['clipforge_payment_webhook_failures_total{provider="stripe"}'] == "1.0"
    assert lines["clipforge_db_connection_errors_total"] == "6.0"
    assert "# TYPE clipforge_http_request_duration_seconds histogram" in outputs[0]


def test_samples_parse_back_from_their_text() -> None:
    assert parse_sample('a_total{x="1",y="q\\"uote"}') == ("a_total", {"x": "1", "y": 'q"uote'})
    with pytest.raises(ValueError, match="cannot read the labels"):
        parse_sample("a_total{x=1}")


def test_a_rule_reload_keeps_unchanged_metrics_and_restarts_changed_ones(tmp_path: Path) -> None:
    engine, _ = _metrics(tmp_path, COUNTER + COUNTER.replace("requests_total", "errors_total"))
    engine.process(event(0, "GET /a/clp_1 200 5ms", logger="HTTP"))
    changed = COUNTER.replace("requests_total", "errors_total").replace("max_series: 2", "max_series: 3")
    engine.reload(ruleset(tmp_path, HTTP_EXTRACT + "metrics:\n" + COUNTER + changed, "reloaded.yml"))
    engine.process(event(1, "GET /a/clp_2 200 5ms", logger="HTTP"))
    assert engine.metrics is not None
    assert samples(engine.metrics, only="requests_total") == {
        'requests_total{route="/a/:id",status_class="2xx",method="GET"}': 2.0  # kept: no reset for Prometheus
    }
    assert samples(engine.metrics, only="errors_total") == {
        'errors_total{route="/a/:id",status_class="2xx",method="GET"}': 1.0  # changed: counted from the reload
    }
