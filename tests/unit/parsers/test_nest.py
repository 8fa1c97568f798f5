from __future__ import annotations

import calendar

import pytest

from tests.unit.parsers.helpers import STDERR, parse, parse_one

RED, YELLOW, GREEN, RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[39m"
NNBSP = "\u202f"  # Node 20+ puts a narrow no-break space before AM/PM


def ns(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) * 1_000_000_000


def colour_line(level: str, context: str, message: str, colour: str = GREEN) -> str:
    return (
        f"{colour}[Nest] 42  - {RESET}11/27/2026, 2:01:54{NNBSP}PM {colour}{level:>7}{RESET} "
        f"{YELLOW}[{context}] {RESET}{colour}{message}{RESET}{YELLOW} +3ms{RESET}"
    )


def test_coloured_log_line_gives_level_context_message_and_time() -> None:
    event = parse_one(colour_line("LOG", "NestFactory", "Starting Nest application..."))
    assert (event.parser, event.level, event.logger, event.message) == (
        "nest",
        "info",
        "NestFactory",
        "Starting Nest application...",
    )
    assert event.log_time == ns(2026, 11, 27, 14, 1, 54)
    assert event.fields == {"pid": 42}


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("LOG", "info"),
        ("ERROR", "error"),
        ("WARN", "warning"),
        ("DEBUG", "debug"),
        ("VERBOSE", "debug"),
        ("FATAL", "critical"),
    ],
)
def test_every_nest_level_maps_to_a_logpipe_level(word: str, level: str) -> None:
    assert parse_one(colour_line(word, "Ctx", "x")).level == level


def test_256_colour_and_bold_sequences_are_stripped() -> None:
    line = (
        "\x1b[38;5;208m[Nest] 7  - \x1b[0m11/27/2026, 12:00:01 AM \x1b[1m   WARN\x1b[22m "
        "[\x1b[38;2;1;2;3mAuth] slow\x1b[0m"
    )
    event = parse_one(line)
    assert (event.level, event.logger, event.message) == ("warning", "Auth", "slow")
    assert event.log_time == ns(2026, 11, 27, 0, 0, 1)  # 12 AM is midnight
    assert event.raw == line  # raw keeps the bytes as read


def test_plain_line_without_colour_and_without_context() -> None:
    event = parse_one("[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG Application is running")
    assert (event.logger, event.message) == ("", "Application is running")


def test_custom_prefix_is_kept_as_app() -> None:
    event = parse_one("[ClipForge] 1  - 11/27/2026, 9:00:00 AM     LOG [Boot] up")
    assert event.fields == {"pid": 1, "app": "ClipForge"}


def test_error_line_with_its_stack_trace_is_one_event() -> None:
    lines = [
        colour_line("ERROR", "ExceptionsHandler", "connect ECONNREFUSED 127.0.0.1:5432", RED),
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
        colour_line("LOG", "HTTP", "GET /api/v1/health 200 2ms"),
    ]
    first, second = parse(lines, STDERR)
    assert (first.level, first.logger, first.message) == (
        "error",
        "ExceptionsHandler",
        "connect ECONNREFUSED 127.0.0.1:5432",
    )
    assert first.stack == (
        "Error: connect ECONNREFUSED 127.0.0.1:5432\n"
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)"
    )
    assert first.lines == 3
    assert second.message == "GET /api/v1/health 200 2ms"


def test_object_dump_after_a_log_line_extends_its_message() -> None:
    lines = [
        "[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG [Config] Object(2) {",
        "  region: 'eu-west-1',",
        "  bucket: 'clips'",
        "} +1ms",
    ]
    (event,) = parse(lines)
    assert event.message == "Object(2) {\n  region: 'eu-west-1',\n  bucket: 'clips'\n}"
    assert event.stack is None
    assert event.lines == 4
