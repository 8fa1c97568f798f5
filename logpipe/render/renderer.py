"""Notification templates: Jinja2 in a sandbox, strict about unknown variables, searched in the user's template
directories first and then in logpipe's defaults (logpipe/render/templates/). Templates written by rule authors run
sandboxed, with bounds on loops, time, sizes and recursion (sandbox.py); output is size-capped; HTML is
autoescaped.

Template names: `<kind>` files are `console.txt.j2`, `slack.json.j2`, `webhook.json.j2`, `email.subject.j2`,
`email.txt.j2`, `email.html.j2`. A rule's `template: payments` makes `payments.slack.json.j2` (and so on) win over
the defaults where it exists.

Escaping is per destination: HTML is autoescaped, JSON written with `tojson`, and Slack's mrkdwn text goes through
the `mrkdwn` filter (its control sequences: mentions, disguised links).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import orjson

from logpipe.render.sandbox import BoundedSandbox, bounded_filters

KINDS = {
    "console": "console.txt.j2",
    "slack": "slack.json.j2",
    "webhook": "webhook.json.j2",
    "email.subject": "email.subject.j2",
    "email.text": "email.txt.j2",
    "email.html": "email.html.j2",
}
OUTPUT_LIMIT = {
    "console": 16_384,
    "slack": 40_000,
    "webhook": 256_000,
    "email.subject": 250,
    "email.text": 256_000,
    "email.html": 512_000,
}
_STRING_LIMIT = 8_000  # any one string value handed to a template
JSON_KINDS = ("slack", "webhook")
TRUNCATED = "…[truncated]"


class TemplateProblem(Exception):
    """A template is missing, invalid, uses an unknown variable, renders bad JSON or too much output."""


class Renderer:
    def __init__(self, user_dirs: Sequence[Path] = ()) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader([str(d) for d in user_dirs if d.is_dir()])]
        loaders.append(jinja2.PackageLoader("logpipe.render", "templates"))
        self.env = BoundedSandbox(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=lambda name: name is not None and ".html" in name,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["tojson"] = _strict_tojson
        self.env.filters["mrkdwn"] = mrkdwn
        self.env.filters.update(bounded_filters(dict(self.env.filters)))

    def template_name(self, kind: str, template_set: str | None = None) -> str:
        default = KINDS[kind]
        if template_set:
            candidate = f"{template_set}.{default}"
            try:
                self.env.get_template(candidate)
            except jinja2.TemplateNotFound:
                return default
            except jinja2.TemplateError:  # it exists but does not compile: render() reports that, named
                return candidate
            return candidate
        return default

    def render(
        self, kind: str, payload: dict[str, Any], template_set: str | None = None, sentry_link: str | None = None
    ) -> str:
        name = self.template_name(kind, template_set)
        context = _clip({**payload, "sentry_link": sentry_link})
        context["alert"] = dict(context)
        try:
            text = self.env.get_template(name).render(context)
        except Exception as error:  # design.md's boundary around user templates: any error is the template's
            raise TemplateProblem(f"{name}: {type(error).__name__}: {error}") from None
        text = text.strip() + ("\n" if kind == "console" else "")
        limit = OUTPUT_LIMIT[kind]
        if len(text) > limit:
            if kind in JSON_KINDS:  # cut JSON is no JSON: the receiver would refuse it
                raise TemplateProblem(f"{name}: renders {len(text)} characters, over the {limit} limit")
            # a long subject or body is cut with a marker, and sent: a page with a cut subject beats none
            text = text[: limit - len(TRUNCATED)] + TRUNCATED
        return text

    def render_json(
        self, kind: str, payload: dict[str, Any], template_set: str | None = None, sentry_link: str | None = None
    ) -> bytes:
        text = self.render(kind, payload, template_set, sentry_link)
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise TemplateProblem(f"{self.template_name(kind, template_set)}: does not render JSON: {error}") from None
        return text.encode()

    def check(self, template_set: str | None, sample: dict[str, Any]) -> list[str]:
        """Problems of every template of a set, rendered with a sample alert (an unknown variable fails here)."""
        problems = []
        if template_set and not any(self.template_name(kind, template_set) != KINDS[kind] for kind in KINDS):
            problems.append(f"no template named {template_set}.<kind> (e.g. {template_set}.{KINDS['slack']})")
        for kind in KINDS:
            try:
                if kind in ("slack", "webhook"):
                    self.render_json(kind, sample, template_set)
                else:
                    self.render(kind, sample, template_set)
            except TemplateProblem as problem:
                problems.append(str(problem))
        return problems


@jinja2.pass_eval_context
def _strict_tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Any:
    """Jinja's tojson, but an undefined value is the template's error, not a TypeError from json."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return jinja2.filters.do_tojson(eval_ctx, value, indent)


def mrkdwn(value: Any) -> str:
    """Text for a Slack mrkdwn field, as text: `&`, `<` and `>` are Slack's control characters (`<!channel>` pings
    everyone, `<https://evil|https://bank>` is a disguised link), so they go as HTML entities, as Slack asks. Every
    value from a log goes through this in the Slack templates; a runbook (the rule author's) may link on purpose."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _STRING_LIMIT else value[:_STRING_LIMIT] + "…(truncated)"
    if isinstance(value, dict):
        return {key: _clip(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clip(item) for item in value[:50]]
    return value


def sample_payload() -> dict[str, Any]:
    """A complete alert payload for checking and previewing templates (every key a template may use)."""
    from logpipe.event import Event, Origin
    from logpipe.incidents.notification import Notification, SummaryField, SymptomTally

    origin = Origin("docker", "clipforge-api", "stderr", "4f2a9c0e1b7d")
    line = (
        "[Nest] 1  - 11/27/2026, 9:03:03 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)..."
    )
    stack = "Error: connect ECONNREFUSED 172.18.0.3:5432\n    at TCPConnectWrap.afterConnect (node:net:1611:16)"
    time = 1_795_770_183_000_000_000
    event = Event(
        time,
        "error",
        "Unable to connect to the database. Retrying (1)...",
        "TypeOrmModule",
        {"pid": 1, "stack": stack},
        origin,
        line,
        "nest",
        time,
        time,
    )
    notification = Notification(
        id="0" * 32,
        incident="1" * 32,
        kind="firing",
        rule="postgres-connection-error",
        title="Postgres connection error",
        severity="warning",
        time=time + 600_000_000_000,
        group=(("container", "clipforge-api"),),
        message="Unable to connect to the database. Retrying (1)...",
        count=3,
        total=3,
        first_seen=time,
        last_seen=time + 540_000_000_000,
        summary=(SummaryField("ctx.user", (("usr_1", 4), ("usr_2", 1)), 2, 0),),
        symptoms=(SymptomTally("http-error-rate", "HTTP 5xx error rate", 14, "14.3% of 98 responses"),),
        event=event,
        samples=(event,),
        data={"port": 5432},
        description="clipforge-api lost its Postgres connection.",
        runbook="docker compose ps postgres; restart services.",
    )
    return notification.to_dict()
