"""NestJS text lines as they look outside en-US and outside a bare `docker logs` (issue 17): the header is read
whatever the locale's date, an unreadable date keeps the event (no log time, flagged), and lines that only look
bracketed (`[ioredis] ...`, `[webhook] [ERROR] ...`) are left to the text parser. Most lines are real ones from
tests/data/realworld/."""

from __future__ import annotations

import calendar

import pytest

from logpipe.event import RawLine
from logpipe.parsers.nestlocale import locale_time_ns
from tests.unit.parsers.helpers import STDOUT, parse, parse_one

RED, RESET = "\x1b[31m", "\x1b[39m"


def ns(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) * 1_000_000_000


@pytest.mark.parametrize(
    ("line", "time"),
    [
        # de: day first with dots, 24-hour clock (the line)
        ("[Nest] 58947  - 08.12.2021, 13:39:14   ERROR [ExceptionsHandler] boom", ns(2021, 12, 8, 13, 39, 14)),
        # es: day first, "a. m."
        (
            "[Nest] 18076  - 26/05/2025, 11:29:31 a. m.   ERROR [ExceptionsHandler] PrismaClientValidationError: ",
            ns(2025, 5, 26, 11, 29, 31),
        ),
        # ko: year first, 오후 (PM) before the clock
        ("[Nest] 23598  - 2023. 06. 18. 오후 5:56:06   ERROR [ExceptionsHandler] test", ns(2023, 6, 18, 17, 56, 6)),
        # ja: year first with slashes, 24-hour clock
        ("[Nest] 58852  - 2023/02/12 16:41:02   ERROR [ExceptionsHandler] Login", ns(2023, 2, 12, 16, 41, 2)),
        # en-AU / en-IN: day first, lower-case pm
        ("[Nest] 32325  - 14/10/2024, 5:57:59 pm   ERROR [ExceptionsHandler] x", ns(2024, 10, 14, 17, 57, 59)),
        # en-GB, fr: day first with slashes, 24-hour clock, both numbers 12 or less
        ("[Nest] 2360  - 04/08/2024, 01:52:24   ERROR [ExceptionsHandler] x", ns(2024, 8, 4, 1, 52, 24)),
        # en-US, NestJS's default, still month first
        ("[Nest] 1  - 03/06/2023, 6:39:50 AM   ERROR [ExceptionsHandler] x", ns(2023, 3, 6, 6, 39, 50)),
        # nl: day first with dashes; sv: ISO order
        ("[Nest] 5  - 8-12-2021 13:39:14   ERROR [ExceptionsHandler] x", ns(2021, 12, 8, 13, 39, 14)),
        ("[Nest] 5  - 2021-12-08 13:39:14   ERROR [ExceptionsHandler] x", ns(2021, 12, 8, 13, 39, 14)),
        # zh: year first, 下午 (PM)
        ("[Nest] 5  - 2021/12/8 下午1:39:14   ERROR [ExceptionsHandler] x", ns(2021, 12, 8, 13, 39, 14)),
    ],
)
def test_the_header_is_read_whatever_the_locale(line: str, time: int) -> None:
    event = parse_one(line)
    assert (event.parser, event.level, event.logger) == ("nest", "error", "ExceptionsHandler")
    assert event.log_time == time
    assert event.time == time  # no Docker timestamp here: the log's own time is the event's
    assert event.flags == ()


def test_the_docker_timestamp_is_the_event_time_when_there_is_one() -> None:
    docker_time = ns(2026, 11, 30, 12, 0, 0)
    line = "[Nest] 58947  - 08.12.2021, 13:39:14   ERROR [ExceptionsHandler] boom"
    (event,) = parse([RawLine(line.encode(), STDOUT, docker_time)])
    assert (event.time, event.docker_time, event.log_time) == (docker_time, docker_time, ns(2021, 12, 8, 13, 39, 14))


@pytest.mark.parametrize(
    "line",
    [
        "[Nest] 7  - 31.02.2021, 13:39:14   ERROR [ExceptionsHandler] no 31st of February",
        "[Nest] 7  - 12.2021 um 13   ERROR [ExceptionsHandler] a date with no clock",
    ],
)
def test_an_unreadable_date_keeps_the_nest_event_without_a_log_time_and_flags_it(line: str) -> None:
    event = parse_one(line)
    assert (event.parser, event.level, event.logger) == ("nest", "error", "ExceptionsHandler")
    assert event.log_time is None
    assert event.flags == ("nest_time_unread",)
    assert event.message.startswith(("no 31st", "a date"))


def test_nest_6_and_7_lines_without_a_level_column() -> None:
    handler = parse_one(
        "[Nest] 1   - 11/02/2020, 9:02:37 PM   [ExceptionsHandler] Reached the max retries per request limit "
        '(which is 20). Refer to "maxRetriesPerRequest" option for details. +209347ms'
    )
    assert (handler.level, handler.logger, handler.log_time) == (
        "error",
        "ExceptionsHandler",
        ns(2020, 11, 2, 21, 2, 37),
    )
    assert handler.message.endswith("option for details.")  # the +209347ms delta is dropped
    startup = parse_one("[Nest] 20964   - 11/24/2019, 5:00 PM   [NestFactory] Starting Nest application...")
    assert (startup.level, startup.logger, startup.log_time) == ("info", "NestFactory", ns(2019, 11, 24, 17, 0))
    red = parse_one(f"{RED}[Nest] 3   - {RESET}11/02/2020, 9:02:37 PM   [Payments] {RED}charge failed{RESET}")
    assert (red.level, red.logger, red.message) == ("error", "Payments", "charge failed")


@pytest.mark.parametrize(
    ("line", "level", "context", "fields"),
    [
        ("[Nest] ERROR [ExceptionsHandler] PayloadTooLargeError", "error", "ExceptionsHandler", {}),
        (
            "[Nest] 333 - ERROR [ExceptionHandler] UndefinedDependencyException [Error]:",
            "error",
            "ExceptionHandler",
            {"pid": 333},
        ),
        (
            "nestjs    | [Nest] 131  - 05/26/2023, 9:11:37 PM   ERROR [ExceptionsHandler] update or delete on table",
            "error",
            "ExceptionsHandler",
            {"pid": 131, "prefix": "nestjs    |"},
        ),
        (
            "Oct 08 14:27:44 infra-01 start.sh[2262554]: [Nest] 2262554  - 10/08/2026, 2:27:44 PM   ERROR "
            "[ExceptionsHandler] [Error: ENOENT: no such file or directory]",
            "error",
            "ExceptionsHandler",
            {"pid": 2262554, "prefix": "Oct 08 14:27:44 infra-01 start.sh[2262554]:"},
        ),
    ],
)
def test_headers_cut_short_or_behind_a_prefix(line: str, level: str, context: str, fields: dict[str, object]) -> None:
    event = parse_one(line)
    assert (event.parser, event.level, event.logger, dict(event.fields)) == ("nest", level, context, fields)
    assert event.raw == line


@pytest.mark.parametrize(
    ("line", "parser", "level", "logger"),
    [
        ("[ioredis] Unhandled error event: Error: connect ETIMEDOUT", "text", "info", "ioredis"),
        ("[webhook] [ERROR] Stripe webhook not configured", "text", "error", "webhook"),
        ("[16:36:07] File change detected. Starting incremental compilation...", "text", "info", "16:36:07"),
        ("Prisma schema loaded from prisma/schema.prisma", "plain", "info", ""),
    ],
)
def test_bracketed_lines_that_are_not_nest_headers_are_left_to_the_text_parser(
    line: str, parser: str, level: str, logger: str
) -> None:
    event = parse_one(line)
    assert (event.parser, event.level, event.logger) == (parser, level, logger)


def test_an_unindented_v8_frame_continues_its_event() -> None:
    events = parse(
        [
            "Error: connect ETIMEDOUT",
            "at Socket.<anonymous> (/app/node_modules/ioredis/built/redis/index.js:317:37)",
            "at processTimers (internal/timers.js:497:7)",
            "at Object.parse (native)",
            "at this point the worker restarted",  # prose starting with "at": a line of its own
        ]
    )
    assert len(events) == 2
    assert "ioredis/built/redis/index.js" in events[0].fields["stack"]
    assert events[1].message == "at this point the worker restarted"


def test_locale_time_ns_refuses_what_it_cannot_read() -> None:
    assert locale_time_ns("11/27/2026, 2:01:54 AM") == ns(2026, 11, 27, 2, 1, 54)
    assert locale_time_ns("13/13/2026, 10:00:00") is None  # no 13th month either way
    assert locale_time_ns("11/27/2026") is None  # no clock
    assert locale_time_ns("27.11.2026, 25:00:00") is None


def test_a_header_whose_nest_and_pid_a_forwarder_cut_is_still_a_nestjs_line() -> None:
    """Grafana's export of Loki (tests/data/realworld: teammapper#239): the date, the level column, the context."""
    event = parse_one(
        "01/24/2024, 1:58:38 PM   ERROR [ExceptionsHandler] Cannot read properties of null (reading 'id')"
    )
    assert (event.parser, event.level, event.logger, event.log_time) == (
        "nest",
        "error",
        "ExceptionsHandler",
        ns(2024, 1, 24, 13, 58, 38),
    )
    assert parse_one("2026-11-27 09:00:00 ERROR [worker] render failed").parser == "text"  # an ISO date: not NestJS


def test_behind_the_forwarders_own_timestamp_too() -> None:
    event = parse_one("2024-01-24 14:57:19.113\t01/24/2024, 1:58:38 PM   ERROR [ExceptionsHandler] Request failed")
    assert (event.parser, event.logger, event.message, event.fields["prefix"]) == (
        "nest",
        "ExceptionsHandler",
        "Request failed",
        "2024-01-24 14:57:19.113",
    )
