"""The `metrics:` section of rule files as pydantic models: log-derived Prometheus counters, histograms and gauges
(as mtail and Vector's log_to_metric make them). Compiled by model.py; conditions are checked by engine/specs.py.

metrics:
  - name: clipforge_http_requests_total
    type: counter
    help: HTTP responses served by clipforge-api
    match: {http.status: {exists: true}}           # the same conditions as rules
    labels:
      method: {field: http.method, values: [GET, POST, PUT, PATCH, DELETE]}   # anything else: other
      route: {field: http.path, route: {':id': '[a-z]{2,6}_\\w+|\\d+'}}      # ids to placeholders
      status_class: {field: http.status, status_class: true}                  # 503 -> 5xx
    max_series: 500                                 # beyond it, label values go to `other` (counted)
    examples:
      - lines: ['[Nest] 1  - 11/27/2026, 9:00:02 AM     LOG [HTTP] GET /api/v1/clips/clp_1 200 3ms']
        samples: {'clipforge_http_requests_total{method="GET",route="/api/v1/clips/:id",status_class="2xx"}': 1}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
_CONDITION_MARK = "x-logpipe-condition"  # the same mark schema.py links to its Condition schema
ConditionSpec = Annotated[Any, WithJsonSchema({_CONDITION_MARK: True})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelModel(_Strict):
    """Where a label's value comes from, and how it is kept to a bounded set of values."""

    field: str | list[str] = Field(description="the field read (a list: the first one present)")
    regex: str | None = Field(None, description="the value is this regex's first group (or group `value`)")
    cases: dict[str, str] = Field(
        {}, description="label value: regex; the first whose regex is found in the field names the value"
    )
    route: dict[str, str] | None = Field(
        None, description="normalise a URL path: the query is dropped, each segment matching a regex is replaced "
        "by its placeholder (':id': regex)"
    )  # fmt: skip
    status_class: bool = Field(False, description="an HTTP status as its class: 503 -> 5xx")
    values: list[str] | None = Field(None, description="the allowed values; any other becomes `other`")
    missing: str = Field("none", description="the value when the field is absent or nothing matched")


def _label_shorthand(value: Any) -> Any:
    return {"field": value} if isinstance(value, str) else value


Label = Annotated[LabelModel, BeforeValidator(_label_shorthand)]


class MetricExample(_Strict):
    """Given these log events (each item one event, several lines when it has a stack trace), the metric exports
    these samples (`name{label="value",...}: value`); for a counter or gauge every series it exports is listed,
    for a histogram every `_count` series. `samples: {}` says the lines produce nothing."""

    lines: list[str] = Field(min_length=1)
    samples: dict[str, float]


class MetricModel(_Strict):
    name: Annotated[str, Field(pattern=METRIC_NAME, max_length=120)]
    type: Literal["counter", "histogram", "gauge"]
    help: str = Field(min_length=1)
    match: ConditionSpec = Field(description="the events this metric counts or measures")
    labels: dict[Annotated[str, Field(pattern=LABEL_NAME)], Label] = {}
    value: str | None = Field(None, description="histogram and gauge: the numeric field; counter: add it instead of 1")
    scale: float = Field(1.0, description="multiply the value, e.g. 0.001 for milliseconds to seconds")
    buckets: list[float] | None = Field(None, description="histogram: upper bounds, increasing (+Inf is added)")
    max_series: int = Field(1000, ge=1, le=100_000, description="label sets kept; beyond it, all go to `other`")
    examples: list[MetricExample] = Field(min_length=1)
