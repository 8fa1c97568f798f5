"""The report as one self-contained HTML file: the page (a Jinja2 template) with plotly's JavaScript and the
charts' data inlined, so it opens offline, from a mail attachment or a file share.

Charts are plotly figures (plotly.py writes the figure JSON; plotly.js, inlined, draws it): a well-kept library
with offline single-file output built in, zoom and hover included, and no server or CDN needed to view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from logpipe.report import bounded
from logpipe.report.bounded import TIMELINE_LISTED, top
from logpipe.report.collect import Report

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("logpipe.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_COLOURS = {"requests": "#2563eb", "errors": "#dc2626", "latency": "#d97706", "memory": "#7c3aed"}


def render_html(report: Report) -> str:
    minutes = [_iso(minute.start) for minute in report.minutes]
    charts = {
        "requests": _line(
            "Request rate", "requests/s", minutes, [m.rate for m in report.minutes], "requests"
        ),
        "errors": _line(
            "Error rate (5xx share)", "% of requests", minutes,
            [round(100 * m.error_rate, 2) for m in report.minutes], "errors",
        ),
        "latency": _line(
            "p95 latency", "ms", minutes, [m.p95_ms for m in report.minutes], "latency"
        ),
    }  # fmt: skip
    if report.memory:
        figure = go.Figure()
        for container, points in sorted(report.memory.items()):
            figure.add_scatter(x=[_iso(t) for t, _ in points], y=[mib for _, mib in points], name=container)
        charts["memory"] = _html(_style(figure, "Container memory", "MiB"), "memory")
    users, more_users = top((report.payments.users, report.credits.users))
    exceptions, more_exceptions = top((report.exceptions,), 10)
    messages, more_messages = top((report.error_messages,), 10)
    return _ENV.get_template("report.html.j2").render(
        report=report,
        users=users,
        more_users=more_users,
        exceptions=exceptions,
        more_exceptions=more_exceptions,
        messages=messages,
        more_messages=more_messages,
        timeline=report.timeline[:TIMELINE_LISTED],
        more_timeline=max(0, len(report.timeline) - TIMELINE_LISTED),
        tracked=bounded.TRACKED,  # read at each render: a test sets it small
        charts=charts,
        plotly_js=get_plotlyjs(),
        iso=_iso,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _line(title: str, unit: str, x: list[str], y: list[Any], key: str) -> str:
    figure = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", line={"color": _COLOURS[key]}, name=title))
    return _html(_style(figure, title, unit), key)


def _style(figure: go.Figure, title: str, unit: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        height=280,
        margin={"l": 60, "r": 20, "t": 44, "b": 40},
        yaxis_title=unit,
        template="plotly_white",
        hovermode="x unified",
    )
    return figure


def _html(figure: go.Figure, key: str) -> str:
    html: str = figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"chart-{key}", config={"displaylogo": False}
    )
    return html


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
