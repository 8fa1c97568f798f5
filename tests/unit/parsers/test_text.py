from __future__ import annotations

from tests.unit.parsers.helpers import STDERR, STDOUT, parse, parse_one


def test_logfmt_with_numbers_and_quotes() -> None:
    event = parse_one('time=2026-11-27T09:01:54Z level=warn msg="slow query \\"credits\\"" durationMs=5123 ok=true')
    assert (event.parser, event.level, event.message) == ("logfmt", "warning", 'slow query "credits"')
    assert event.fields == {"durationMs": 5123, "ok": True}


def test_a_sentence_with_one_equals_sign_is_not_logfmt() -> None:
    assert parse_one("retry=3 attempts left").parser == "plain"


def test_leading_timestamp_and_level_word() -> None:
    event = parse_one("2026-11-27 09:01:54,123 ERROR [billing] payment capture failed")
    assert (event.parser, event.level, event.logger, event.message) == (
        "text",
        "error",
        "billing",
        "payment capture failed",
    )
    assert event.log_time == 1_795_770_114_123_000_000


def test_winston_lowercase_level_with_colon() -> None:
    event = parse_one("error: Redis connection lost")
    assert (event.level, event.message) == ("error", "Redis connection lost")


def test_capitalised_error_word_is_a_message_not_a_level() -> None:
    event = parse_one("Error: listen EADDRINUSE: address already in use :::3000", STDOUT)
    assert (event.parser, event.level) == ("plain", "info")
    assert event.message == "Error: listen EADDRINUSE: address already in use :::3000"


def test_ioredis_plain_stderr_line_with_stack_is_one_error_event() -> None:
    lines = [
        "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 127.0.0.1:6379",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
        "    at TCPConnectWrap.callbackTrampoline (node:internal/async_hooks:130:17)",
    ]
    (event,) = parse(lines, STDERR)
    assert (event.level, event.logger, event.message) == (
        "error",
        "ioredis",
        "Unhandled error event: Error: connect ECONNREFUSED 127.0.0.1:6379",
    )
    assert event.stack is not None
    assert event.stack.count("    at ") == 2


def test_plain_lines_take_their_level_from_the_stream() -> None:
    assert parse_one("listening on 3000", STDOUT).level == "info"
    assert parse_one("(node:1) Warning: something deprecated", STDERR).level == "error"


def test_binary_garbage_is_an_unparsed_event_not_a_crash() -> None:
    event = parse_one("\x00\x01\x02\x03\xff garbage \x07\x08")
    assert (event.parser, event.flags) == ("unparsed", ("binary",))


def test_a_level_word_followed_by_another_is_the_subject_of_the_message() -> None:
    """V8's out-of-memory banner: `FATAL ERROR:` is what it says, not a level column and a message `ERROR: ...`."""
    event = parse_one("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory")
    assert (event.level, event.message) == (
        "critical",
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    )
    assert parse_one("ERROR: connection refused").message == "connection refused"


def test_a_level_column_padded_with_spaces_is_still_a_level() -> None:
    """NestJS pads its level column: what is left once a forwarder cut `[Nest] PID  - <date>`."""
    event = parse_one("  ERROR [ExceptionsHandler] Request failed with status code 400")
    assert (event.parser, event.level, event.logger) == ("text", "error", "ExceptionsHandler")
