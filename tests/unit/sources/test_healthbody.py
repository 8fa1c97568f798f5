"""Both health formats read into the same components: one rule reads either."""

from __future__ import annotations

from logpipe.sources.probes import healthbody


def test_clipforge_components_are_down_when_their_status_is_not_ok() -> None:
    body = {
        "status": "ok",
        "timestamp": "2026-11-30T10:00:00Z",
        "uptime": 3600,
        "database": {"status": "ok"},
        "redis": {"status": "error", "message": "ECONNREFUSED"},
        "storage": {"status": "ok"},
    }
    assert healthbody.components(body) == {"database": "up", "redis": "down", "storage": "up"}
    assert (healthbody.overall(body), healthbody.uptime_seconds(body)) == ("up", 3600.0)


def test_terminus_details_info_and_error() -> None:
    body = {
        "status": "error",
        "info": {"redis": {"status": "up"}},
        "error": {"database": {"status": "down", "message": "timeout"}},
        "details": {"redis": {"status": "up"}, "database": {"status": "down", "message": "timeout"}},
    }
    assert healthbody.components(body) == {"redis": "up", "database": "down"}
    assert healthbody.overall(body) == "down"
    trimmed = {"status": "error", "info": {"redis": {"status": "up"}}, "error": {"database": {"status": "down"}}}
    assert healthbody.components(trimmed) == {"redis": "up", "database": "down"}


def test_bodies_without_components() -> None:
    assert healthbody.components(["not", "a", "mapping"]) == {}
    assert healthbody.components({"status": "ok"}) == {}
    assert healthbody.overall({"ok": True}) is None
    assert healthbody.uptime_seconds({"uptime": True}) is None
