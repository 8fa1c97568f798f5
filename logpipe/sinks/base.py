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

USER_AGENT = "logpipe/0.1"


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


class HttpStatusError(DeliveryError):
    """The receiver answered, with this status: some receivers document what a status asks of the sender."""

    def __init__(self, message: str, status: int, failure: DeliveryError) -> None:
        super().__init__(
            message, retryable=failure.retryable, retry_after=failure.retry_after, receiver_down=failure.receiver_down
        )
        self.status = status


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    receiver: str,
    shown: Callable[[str], str] = str,
    limit: int = 2048,
    named: bool = False,
) -> bytes:
    """POST `body` (as logpipe's User-Agent); the start of the answer (`limit` bytes). A refusal is an
    HttpStatusError from its status (http_failure; `named`: its message starts with `receiver`, for a sink posting
    to several), no answer at all (refused, unreachable, timed out) a DeliveryError saying `receiver` is down;
    `shown` redacts what an error says (a URL may carry credentials)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read(limit))
    except urllib.error.HTTPError as error:
        failure = http_failure(error.code, error.read(512).decode("utf-8", "replace"), error.headers.get("Retry-After"))
        raise HttpStatusError(f"{receiver}: {failure}" if named else str(failure), error.code, failure) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"cannot reach {receiver}: {shown(str(reason))}", receiver_down=True) from None


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
