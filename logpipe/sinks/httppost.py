"""One JSON POST whose HTTP answer decides what the outbox does: 2xx delivered, 429 and 5xx retried (after
Retry-After), other 4xx dead-lettered, unreachable retried with the sink paused (sinks/base.py's mapping).

The receivers of the on-call tools (Alertmanager, PagerDuty) use it; the webhook channel has its own copy in
notify.py until the sinks' HTTP POST is one function in sinks/base.py (the redesign's layout)."""

from __future__ import annotations

import urllib.error
import urllib.request

from logpipe.sinks.base import DeliveryError, http_failure

USER_AGENT = "logpipe/0.1"


class HttpStatusError(DeliveryError):
    """The receiver answered, with this status: some receivers document what a status asks of the sender."""

    def __init__(self, message: str, status: int, failure: DeliveryError) -> None:
        super().__init__(
            message,
            retryable=failure.retryable,
            retry_after=failure.retry_after,
            receiver_down=failure.receiver_down,
        )
        self.status = status


def post_json(url: str, body: bytes, *, shown: str, timeout: float, headers: dict[str, str] | None = None) -> bytes:
    """POST `body` as JSON to `url`; the answer's first 64 KiB. `shown`: the receiver as errors may name it (no
    credentials)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read(65536))
    except urllib.error.HTTPError as error:
        failure = http_failure(error.code, error.read(512).decode("utf-8", "replace"), error.headers.get("Retry-After"))
        raise HttpStatusError(f"{shown}: {failure}", error.code, failure) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"cannot reach {shown}: {reason}", receiver_down=True) from None
