from __future__ import annotations

import orjson

from logpipe.event import Event, Origin, format_time, lookup

ORIGIN = Origin("docker", "clipforge-api", "stderr", "c0ffee")


def make(**fields: object) -> Event:
    return Event(1_795_770_114_123_456_789, "error", "boom", "Credits", fields, ORIGIN, "raw", "json")


def test_dotted_paths_reach_attributes_origin_and_nested_fields() -> None:
    event = make(err={"type": "QueryFailedError", "frames": [{"fn": "deduct"}]}, **{"req.id": 7})
    assert event.get("err.type") == "QueryFailedError"
    assert event.get("err.frames.0.fn") == "deduct"
    assert event.get("req.id") == 7  # a literal dotted key wins
    assert (event.get("level"), event.get("context"), event.get("stream"), event.get("container")) == (
        "error",
        "Credits",
        "stderr",
        "clipforge-api",
    )
    assert event.get("err.missing", "default") == "default"
    assert lookup({"a": 1}, "a.b") is None


def test_to_json_is_one_line_with_nanosecond_times() -> None:
    event = make(userId="usr_1")._replace(docker_time=1_795_770_114_123_456_789, flags=("truncated",))
    decoded = orjson.loads(event.to_json())
    assert decoded == {
        "time": "2026-11-27T09:01:54.123456789Z",
        "level": "error",
        "message": "boom",
        "logger": "Credits",
        "fields": {"userId": "usr_1"},
        "origin": {
            "source": "docker",
            "name": "clipforge-api",
            "stream": "stderr",
            "container_id": "c0ffee",
            "host": "",
        },
        "parser": "json",
        "docker_time": "2026-11-27T09:01:54.123456789Z",
        "flags": ["truncated"],
        "raw": "raw",
    }
    assert b"\n" not in event.to_json()


def test_format_time() -> None:
    assert format_time(0) == "1970-01-01T00:00:00.000000000Z"
