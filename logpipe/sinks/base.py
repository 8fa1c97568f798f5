"""What a sink is: something that delivers one stored notification payload, or says why it could not and whether a
retry is worth it (Alertmanager's notifiers do the same); and the one HTTP POST the HTTP sinks make, whose answer
decides which."""

from __future__ import annotations

import email.utils
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol


class DeliveryError(Exception):
    """`receiver_down`: the failure is the receiver's, not this alert's (unreachable, 429, 502-504): every other
    delivery to it would fail the same way, so the sink pauses instead of trying (and recording) each one."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None, receiver_down: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable, self.retry_after, self.receiver_down = retryable, retry_after, receiver_down


class Sink(Protocol):
    name: str

    def deliver(self, payload: dict[str, Any]) -> None:
        """Deliver one notification payload (Notification.to_dict, redacted); raise DeliveryError on failure."""


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    receiver: str,
    shown: Callable[[str], str] = str,
) -> str:
    """POST `body`; the start of the answer (2 KiB). A refusal is a DeliveryError from its status (http_failure),
    and no answer at all (refused, unreachable, timed out) one that says `receiver` is down; `shown` redacts what
    the error says (a URL may carry credentials)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return str(response.read(2048).decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        raise http_failure(
            error.code, error.read(512).decode("utf-8", "replace"), error.headers.get("Retry-After")
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        raise DeliveryError(f"cannot reach {receiver}: {shown(str(error))}", receiver_down=True) from None


def http_failure(status: int, body: str, retry_after_header: str | None) -> DeliveryError:
    """An HTTP answer as a DeliveryError: 429 and 5xx are worth retrying (after Retry-After), other 4xx are not."""
    retryable = status == 429 or status >= 500 or status in (408, 425)
    return DeliveryError(
        f"HTTP {status}: {body[:300]}",
        retryable=retryable,
        retry_after=parse_retry_after(retry_after_header),
        receiver_down=status in (429, 502, 503, 504),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
