from __future__ import annotations

import pytest

from logpipe.times import epoch_to_ns, parse_iso8601, parse_timestamp

BASE = 1_795_770_114 * 1_000_000_000  # 2026-11-27T09:01:54Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T09:01:54Z", BASE),
        ("2026-11-27T09:01:54.123456789Z", BASE + 123_456_789),
        ("2026-11-27T09:01:54.1234567891234Z", BASE + 123_456_789),
        ("2026-11-27 09:01:54.5", BASE + 500_000_000),
        ("2026-11-27T11:01:54+02:00", BASE),
        ("2026-11-27T04:01:54.000-0500", BASE),
        ("2026-13-27T09:01:54Z", None),
        ("not a time", None),
    ],
)
def test_parse_iso8601(text: str, expected: int | None) -> None:
    assert parse_iso8601(text) == expected


def test_epoch_units_are_told_apart_by_magnitude() -> None:
    assert epoch_to_ns(1_795_770_114) == BASE
    assert epoch_to_ns(1_795_770_114_000) == BASE
    assert epoch_to_ns(1_795_770_114_000_000) == BASE
    assert epoch_to_ns(BASE) == BASE
    assert epoch_to_ns(42) is None


def test_parse_timestamp_accepts_what_loggers_write() -> None:
    assert parse_timestamp("1795770114.5") == BASE + 500_000_000
    assert parse_timestamp(True) is None
    assert parse_timestamp("2026-11-27T09:01:54Z") == BASE
