"""Alerts as JSON lines (one object per alert, redacted), for scripts and for `logpipe replay --format jsonl`."""

from __future__ import annotations

from typing import BinaryIO

import orjson

from logpipe.incidents.notification import Notification
from logpipe.redact import Redactor


class JsonLinesPrinter:
    name = "jsonl"

    def __init__(self, out: BinaryIO, redactor: Redactor | None) -> None:
        self.out, self.redactor = out, redactor

    def show(self, notification: Notification) -> None:
        payload = notification.to_dict()
        if self.redactor is not None:  # None only for --no-redact: the output stays on this host
            payload = self.redactor.payload(payload)  # the final dict, redacted whole
        self.out.write(orjson.dumps(payload, default=str) + b"\n")
        self.out.flush()
