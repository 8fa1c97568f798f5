"""Field types the config and the rule files share: a duration (`30s`, `5m`: ns) and an IANA time zone name."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from logpipe.config.durations import DURATION_PATTERN, parse_duration

Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m"]}),
]


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]  # maintenance windows, the digest's schedule
