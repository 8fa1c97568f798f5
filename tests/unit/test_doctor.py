"""The doctor's checks that need no service: clock skew against a daemon time, DSN shape, channel URL forms;
and the follow arguments `logpipe init` writes."""

from __future__ import annotations

from logpipe.deploy.doctor import Check, channel_check, clock_skew, sentry_check
from logpipe.deploy.scaffold import Running, follow_arguments

DAEMON_TIME = "2026-11-30T11:20:00.123456789Z"  # as `docker info` gives SystemTime: nanoseconds, Z
DAEMON_EPOCH = 1796037600.123456789


def test_a_clock_within_two_seconds_of_the_daemon_passes() -> None:
    check = clock_skew(DAEMON_TIME, DAEMON_EPOCH + 0.5)
    assert check == Check("clock skew", True, "+0.500 s against the Docker daemon")


def test_a_clock_ten_seconds_ahead_of_the_daemon_fails_with_the_fix() -> None:
    check = clock_skew(DAEMON_TIME, DAEMON_EPOCH + 10)
    assert check == Check(
        "clock skew", False, "+10.000 s against the Docker daemon (over 2.0 s)", "run NTP (systemd-timesyncd, chrony)"
    )


def test_an_unreadable_daemon_time_fails_rather_than_passing() -> None:
    assert not clock_skew("yesterday", DAEMON_EPOCH).ok


def test_sentry_dsn_shapes() -> None:
    assert sentry_check(None).ok
    assert not sentry_check("https://sentry.example.com/42").ok  # no public key
    assert not sentry_check("https://key@sentry.example.com/project").ok  # no numeric project id
    assert not sentry_check("ftp://key@sentry.example.com/42").ok


def test_a_channel_url_without_a_host_fails_and_other_apprise_schemes_are_left_to_send() -> None:
    assert channel_check("mail", "mailtos://").detail == "no host in mailtos:// URL"
    assert channel_check("tg", "tgram://bottoken/ChatID").ok


def test_init_follows_one_compose_project_by_label_and_anything_else_by_name() -> None:
    api = Running("clipforge-clipforge-api-1", "clipforge", "clipforge-api")
    worker = Running("clipforge-worker-1", "clipforge", "worker")
    assert follow_arguments([api, worker]) == ["--label", "com.docker.compose.project=clipforge"]
    assert follow_arguments([api, Running("redis", None, None)]) == ["clipforge-api", "redis"]
    assert follow_arguments([]) == ["clipforge-api"]
