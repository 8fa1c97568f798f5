"""Escaping per destination format (issue 28, findings 9 and 19): log text reaches Slack as text, never as
Slack's control sequences (`<!channel>` pings everyone, `<https://evil|https://bank>` is a disguised link), in
alerts and in the digest, as a real receiver on loopback gets them; the digest's link is a web page or refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from logpipe.cli import main
from logpipe.render import Renderer, sample_payload
from logpipe.report.digest import Digest
from logpipe.sinks.webhook import WebhookChannel
from tests.integration.receivers import HttpReceiver

HOSTILE = "<!channel> <@U024BE7LH> <https://evil.example/login|https://bank.example> a & b"
ESCAPED = "&lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example/login|https://bank.example&gt; a &amp; b"


def mrkdwn_texts(value: Any) -> list[str]:
    """Every mrkdwn text of a Slack message (and its top-level `text`, which Slack reads as mrkdwn too)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            found.append(value["text"])
        for item in value.values():
            found += mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            found += mrkdwn_texts(item)
    return found


def sent_to_slack(http_receiver: HttpReceiver, payload: dict[str, Any]) -> list[str]:
    WebhookChannel("slack", http_receiver.url + "/services/T0/B0/x", "slack", Renderer()).deliver(payload)
    message = http_receiver.requests[-1].json()
    return [message["text"], *mrkdwn_texts(message)]


def test_escaping_per_destination_log_text_reaches_slack_as_text_in_an_alert(http_receiver: HttpReceiver) -> None:
    payload = sample_payload()
    payload["message"] = f"Payment failed for {HOSTILE}"
    payload["group"] = {"user": HOSTILE}
    payload["summary_text"] = f"ctx.user: {HOSTILE} (3)"
    payload["stack"] = f"Error: {HOSTILE}\n    at f (a.js:1:1)"
    texts = sent_to_slack(http_receiver, payload)
    assert sum(ESCAPED in text for text in texts) == 4  # message, group value, summary, stack
    for text in texts:
        for sequence in ("<!channel>", "<@U024BE7LH>", "<https://evil.example"):
            assert sequence not in text, text


def test_escaping_per_destination_log_text_reaches_slack_as_text_in_the_digest(http_receiver: HttpReceiver) -> None:
    digest = Digest("2026-11-30", "UTC", 0, 86_400_000_000_000, source=HOSTILE)
    digest.exceptions = [(HOSTILE, 3)]
    texts = sent_to_slack(http_receiver, {**digest.to_payload(), "id": "digest-2026-11-30"})
    assert sum(ESCAPED in text for text in texts) == 2  # the source, the exception
    assert not any("<!channel>" in text for text in texts), texts


def test_escaping_per_destination_the_digest_link_is_a_web_page_or_refused(tmp_path: Path) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text(
        "state_dir: state\nchannels:\n  oncall: {url: 'https://hooks.slack.com/services/T/B/x'}\n"
        "report:\n  daily_at: '08:00'\n  channels: [oncall]\n  link: 'javascript:alert(document.cookie)'\n"
    )
    result = CliRunner().invoke(main, ["rules", "check", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"{config}:7: report.link: " in result.output
    assert "the link must be an http:// or https:// URL" in result.output
