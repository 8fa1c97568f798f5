"""Alerts as JSON lines (one object per alert, redacted), for scripts and for `logpipe replay --format jsonl`."""

from __future__ import annotations

from typing import BinaryIO

import orjson

from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor


class JsonLinesSink:
    name = "jsonl"

    def __init__(self, out: BinaryIO, redactor: Redactor | None) -> None:
        self.out, self.redactor = out, redactor

    def deliver(self, alert: Notification) -> None:
        self.out.write(orjson.dumps(alert.to_dict(self.redactor), default=str) + b"\n")
        self.out.flush()
