"""The payment success-rate rule on a scripted hour of ClipForge webhook lines, replayed: 100 payment outcomes
(Stripe and Razorpay) with 15 failures fire it; with 5 failures it stays quiet. Lines that are not outcomes
(signature failures, checkout calls) do not count."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logpipe.cli import main

RULES = Path(__file__).resolve().parents[2] / "rules" / "business.yml"
START_MS = 1_795_770_000_000  # 2026-11-27 09:00 UTC


def nest_json(at_ms: int, context: str, message: str, level: str = "log") -> str:
    return orjson.dumps({"level": level, "pid": 1, "timestamp": at_ms, "message": message, "context": context}).decode()


def payment_hour(failures: int) -> str:
    """100 payment outcomes over 50 minutes, `failures` of them spread evenly, half Stripe half Razorpay, with
    lines around them that are not outcomes."""
    failing = {round(i * 100 / failures) for i in range(failures)} if failures else set()
    lines = []
    for n in range(100):
        at = START_MS + n * 30_000
        stripe = n % 2 == 0
        lines.append(nest_json(at - 1000, "PaymentsController", f"Checkout session created for user usr_{n}"))
        if stripe and n in failing:
            message = f"Payment failed: payment_intent.payment_failed pi_{n} for user usr_{n} (reason=card_declined)"
            lines.append(nest_json(at, "StripeWebhookController", message, "warn"))
        elif stripe:
            message = f"Payment accepted: checkout.session.completed cs_{n} for user usr_{n} (credits=100)"
            lines.append(nest_json(at, "StripeWebhookController", message))
        else:
            event = "payment.failed" if n in failing else "payment.captured"
            lines.append(nest_json(at, "RazorpayWebhookController", f"Razorpay webhook {event} accepted"))
        if n % 10 == 5:
            lines.append(
                nest_json(at + 10, "StripeWebhookController", "Webhook signature verification failed", "error")
            )
    lines.append(nest_json(START_MS + 100 * 30_000 + 60_000, "HTTP", "GET /api/v1/health 200 2ms"))
    return "\n".join(lines) + "\n"


def replayed(log: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["replay", "-", "--rules", str(RULES), "--format", "jsonl"], input=log)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(("failures", "fires"), [(15, True), (5, False)])
def test_payment_success_rate_under_90_percent_fires_among_100_attempts(failures: int, fires: bool) -> None:
    alerts = [a for a in replayed(payment_hour(failures)) if a["rule"] == "payment-success-rate-low"]
    if not fires:
        assert alerts == []
        return
    first = alerts[0]
    assert (first["status"], first["severity"]) == ("firing", "critical")
    assert isinstance(first["value"], float)
    assert 0.1 < first["value"] <= 0.2
    # not before the rule's minimum of 20 outcomes in the window (one every 30 s from START_MS)
    assert first["time"] >= "2026-11-27T09:09:30"
