"""The whole default pack replayed over the ClipForge example log, sent for real: Sentry events with their
breadcrumbs to Bugsink, emails to an SMTP server, webhook posts to an HTTP server."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from logpipe.cli import main
from tests.conftest import EXAMPLES
from tests.integration.receivers import Bugsink, HttpReceiver, SmtpReceiver

CRITICAL_FIRING = [  # the pack's critical alerts on this log, in order: each one a Sentry event
    "stripe-webhook-signature",
    "razorpay-webhook-signature",
    "credit-deduction-failed",
    "postgres-connection-errors-burst",
    "redis-connection-errors-burst",
    "http-error-rate",
    "payment-without-credits",
    "api-down",
]


def write_config(tmp_path: Path, bugsink: Bugsink, smtp: SmtpReceiver | None, http: HttpReceiver | None) -> Path:
    channels = ""
    if smtp is not None:
        channels += f"  oncall-email: {{url: '{smtp.url()}'}}\n"
    if http is not None:
        channels += f"  ops-webhook: {{url: '{http.url}/hooks/logpipe', kind: webhook}}\n"
    config = tmp_path / "logpipe.yml"
    config.write_text(
        f"state_dir: state\nsentry: {{dsn: '{bugsink.dsn}', environment: test}}\n"
        + (f"channels:\n{channels}" if channels else "")
        + "outbox: {initial_backoff: 200ms, max_backoff: 2s}\n"
    )
    return config


def replay(config: Path, log: Path | str, stdin: str | None = None) -> tuple[list[dict[str, object]], str]:
    args = ["replay", "--config", str(config), "--format", "jsonl", "--wait", "120", str(log)]
    result = CliRunner().invoke(main, args, input=stdin)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_pack_replay_reaches_sentry_email_and_webhook(
    tmp_path: Path, bugsink: Bugsink, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver
) -> None:
    config = write_config(tmp_path, bugsink, smtp_receiver, http_receiver)
    alerts, summary = replay(config, EXAMPLES / "clipforge-api-json.log")
    assert len(alerts) == 24
    # Sentry also gets the 4 folded symptoms, as breadcrumbs on their causes' trail
    assert "oncall-email delivered 24, ops-webhook delivered 24, sentry delivered 28" in summary

    # webhooks: every alert once, by its id
    keys = [request.headers["Idempotency-Key"] for request in http_receiver.requests]
    assert sorted(keys) == sorted(str(a["id"]) for a in alerts)
    # email: one message per alert, subject from the template
    subjects = [m["Subject"] for m in smtp_receiver.wait_for(24)]
    source = EXAMPLES / "clipforge-api-json.log"
    assert f"[CRITICAL] Stripe webhook signature verification failed (container={source})" in subjects
    assert len(subjects) == 24
    assert any(subject.startswith("[RESOLVED] Repeated Postgres connection errors") for subject in subjects)

    # Sentry: the critical firing alerts are events, stored under the alert's id
    events = [a for a in alerts if a["severity"] == "critical" and a["status"] == "firing"]
    assert [a["rule"] for a in events] == CRITICAL_FIRING
    for alert in events:
        stored = bugsink.event(str(alert["id"]))
        assert stored is not None, alert["rule"]
        assert stored["level"] == "error"
        assert stored["environment"] == "test"
        assert stored["tags"]["rule"] == alert["rule"]
    burst = next(a for a in events if a["rule"] == "postgres-connection-errors-burst")
    stored = bugsink.event(str(burst["id"]))
    assert stored is not None
    assert stored["message"] == f"Repeated Postgres connection errors (database unreachable): {burst['message']}"
    assert stored["fingerprint"] == ["logpipe", "postgres-connection-errors-burst", "(all)"]
    assert stored["tags"] == {
        "rule": "postgres-connection-errors-burst",
        "severity": "critical",
        "status": "firing",
        "incident": burst["incident"],
        "count": "3",  # the incident's running count
        "container": str(source),
        "context": "TypeOrmModule",
    }
    crumbs = [crumb["category"] for crumb in stored["breadcrumbs"]["values"]]
    # the container's trail before it: the warnings that went to Sentry as breadcrumbs, in order (the single
    # Postgres errors are its symptoms now, folded in after it fired)
    assert crumbs == ["logpipe.credit-deduction-insufficient-balance"]
    assert "Error: connect ECONNREFUSED 172.18.0.3:5432" in stored["extra"]["stack_trace"]
    # the next event on the container's trail carries the Postgres outage's symptoms as breadcrumbs
    redis = next(a for a in events if a["rule"] == "redis-connection-errors-burst")
    stored = bugsink.event(str(redis["id"]))
    assert stored is not None
    symptoms = [c for c in stored["breadcrumbs"]["values"] if c["message"].startswith("symptom: ")]
    assert {c["category"] for c in symptoms} == {"logpipe.unhandled-exception", "logpipe.postgres-connection-error"}


def test_secrets_never_reach_sentry(tmp_path: Path, bugsink: Bugsink) -> None:
    line = (
        '{"level":"error","pid":1,"timestamp":1795770070100,"context":"StripeWebhookController",'
        '"message":"No signatures found matching the expected signature for payload; Authorization: Bearer '
        'sk_live_51HxYzAbCdEfGhIjKl card 4242 4242 4242 4242 from bob@example.com",'
        '"headers":{"stripe-signature":"t=1,v1=9f8e7d6c","cookie":"session=abc123"},"password":"hunter2"}\n'
    )
    config = write_config(tmp_path, bugsink, None, None)
    (alert, resolved), summary = replay(config, "-", stdin=line)
    assert (alert["status"], resolved["status"]) == ("firing", "resolved")
    assert "sentry delivered 2" in summary
    stored = bugsink.event(str(alert["id"]))
    assert stored is not None
    text = orjson.dumps(stored).decode()
    for secret in (
        "sk_live_51HxYzAbCdEfGhIjKl",
        "4242 4242 4242 4242",
        "bob@example.com",
        "9f8e7d6c",
        "abc123",
        "hunter2",
    ):
        assert secret not in text, secret
    assert "[CARD ****4242]" in stored["message"]
