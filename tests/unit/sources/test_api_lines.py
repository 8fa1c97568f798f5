"""The Engine API's timestamped lines: repeats are kept unless the log rotates (the daemon's re-send)."""

from __future__ import annotations

from logpipe.sources.docker.reader import _api_lines, _rotates

STAMP = b"2026-11-27T10:00:00.123456789Z"


def read(raw: list[tuple[int, bytes, bool]], rotates: bool) -> list[bytes]:
    return [text for stream, _, text, _ in _api_lines(raw, "api", rotates) if stream]


def test_identical_lines_at_one_time_are_kept_in_a_log_that_does_not_rotate() -> None:
    raw = [(1, STAMP + b" payment failed", False)] * 3
    assert read(raw, rotates=False) == [b"payment failed"] * 3


def test_in_a_rotating_log_the_daemon_re_sent_line_is_dropped_once() -> None:
    later = b"2026-11-27T10:00:00.123456790Z"
    raw = [
        (1, STAMP + b" last before rotation", False),
        (1, STAMP + b" last before rotation", False),  # the re-send
        (2, STAMP + b" last before rotation", False),  # another stream: its own line
        (1, later + b" last before rotation", False),  # another time: a new line
        (1, STAMP + b" chunk", True),  # parts of one long line share a time: never dropped
        (1, STAMP + b" chunk", True),
    ]
    assert (
        read(raw, rotates=True)
        == [b"last before rotation", b"re-sent at a log rotation"] + [b"last before rotation"] * 2 + [b"chunk"] * 2
    )  # the re-send is passed on as a skip, to be counted


def test_which_logs_rotate() -> None:
    def info(kind: str, **options: str) -> dict[str, object]:
        return {"HostConfig": {"LogConfig": {"Type": kind, "Config": options}}}

    assert _rotates(info("json-file", **{"max-size": "10m"}))
    assert not _rotates(info("json-file"))
    assert not _rotates(info("json-file", **{"max-size": "-1"}))
    assert _rotates(info("local"))
    assert not _rotates(info("journald"))
    assert not _rotates({})
