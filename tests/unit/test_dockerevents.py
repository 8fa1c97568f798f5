"""Docker event messages as log events: what the container rules match."""

from __future__ import annotations

from logpipe.sources.docker.events import docker_event


def message(action: str, **attributes: str) -> dict[str, object]:
    return {
        "Type": "container",
        "Action": action,
        "id": "0123456789abcdef" * 4,
        "Actor": {"Attributes": {"name": "clipforge-api", "image": "clipforge/api:1", **attributes}},
        "time": 1795770000,
        "timeNano": 1795770000123456789,
    }


def test_a_death_carries_its_exit_code_and_is_an_error_unless_clean() -> None:
    died = docker_event(message("die", exitCode="137"), {"clipforge-api"})
    assert died is not None
    assert died.level == "error"
    assert died.message == "container clipforge-api die (exit code 137)"
    assert died.fields["docker"] == {
        "action": "die",
        "container": "clipforge-api",
        "id": "0123456789ab",
        "image": "clipforge/api:1",
        "exitCode": 137,
    }
    assert died.time == 1795770000123456789
    clean = docker_event(message("die", exitCode="0"), {"clipforge-api"})
    assert clean is not None
    assert clean.level == "info"


def test_health_status_and_oom() -> None:
    unhealthy = docker_event(message("health_status: unhealthy"), {"clipforge-api"})
    assert unhealthy is not None
    assert (unhealthy.level, unhealthy.fields["docker"]["health"]) == ("warning", "unhealthy")
    oom = docker_event(message("oom"), {"clipforge-api"})
    assert oom is not None
    assert oom.level == "critical"


def test_other_containers_and_actions_are_not_events() -> None:
    assert docker_event(message("die", exitCode="1"), {"clipforge-worker"}) is None
    assert docker_event(message("exec_start: sh"), {"clipforge-api"}) is None


def test_a_container_followed_by_id_gets_its_events_under_that_id() -> None:
    followed = "0123456789ab"
    event = docker_event(message("start"), {followed})
    assert event is not None
    assert event.origin.name == followed


def test_an_event_made_up_from_the_container_state_says_so() -> None:
    event = docker_event(message("die", exitCode="1", reconciled="true"), {"clipforge-api"})
    assert event is not None
    assert event.fields["docker"]["reconciled"] is True
    assert "the event itself was missed" in event.message


def test_a_compose_container_event_is_reported_under_the_followed_service_name() -> None:
    compose = message("start", name="clipforge-clipforge-api-1", **{"com.docker.compose.service": "clipforge-api"})
    event = docker_event(compose, {"clipforge-api"})
    assert event is not None
    assert event.origin.name == "clipforge-api"
    assert docker_event(compose, {"clipforge-worker"}) is None


def test_label_selectors_match_the_event_attributes() -> None:
    from logpipe.sources.docker.reader import has_labels

    attributes = {"name": "api", "com.docker.compose.project": "clipforge", "tier": "web"}
    assert has_labels(attributes, ["com.docker.compose.project=clipforge", "tier"])
    assert not has_labels(attributes, ["com.docker.compose.project=other"])
    assert not has_labels(attributes, ["tier=web", "missing"])
