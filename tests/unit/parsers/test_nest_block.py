"""NestJS text events that span lines, as NestJS 11's ConsoleLogger prints them (the lines below are copied from
the fixture app's real output, tests/nestjs/app): one failure, one event."""

from __future__ import annotations

from logpipe.event import RawLine
from logpipe.parsers import Limits
from tests.unit.parsers.helpers import STDERR, parse

T0 = 1_796_652_541_612_057_941  # Docker's nanosecond stamps: one write's lines are microseconds apart
HEADER = (
    "\x1b[31m[Nest] 6  - \x1b[39m12/07/2026, 2:09:01 PM \x1b[31m  ERROR\x1b[39m \x1b[38;5;3m[StripeWebhookService] "
    "\x1b[39m\x1b[31mNo signatures found matching the expected signature for payload. Are you passing the raw "
    "request body you received from Stripe?"
)
SECOND = (
    "If a webhook request is being forwarded by a third-party tool, ensure that the exact request body, including "
    "JSON formatting and new line style, is preserved."
)
LEARN = (
    "Learn more about webhook signing and explore webhook integration examples for various frameworks at "
    "https://docs.stripe.com/webhooks/signature"
)
FIRST = (
    "No signatures found matching the expected signature for payload. Are you passing the raw request body you "
    "received from Stripe?"
)
FRAMES = [
    "    at Object.verifyHeader (/app/node_modules/stripe/cjs/Webhooks.js:80:23)",
    "    at Object.constructEvent (/app/node_modules/stripe/cjs/Webhooks.js:23:32)",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
]
STRIPE = [HEADER, SECOND, "", LEARN, "\x1b[39m", "Error: " + FIRST, SECOND, "", LEARN, "", *FRAMES]


def timed(lines: list[str], start: int = T0, step: int = 2_000) -> list[RawLine]:
    return [RawLine(line.encode(), STDERR, start + i * step) for i, line in enumerate(lines)]


def test_a_message_of_several_lines_and_its_stack_are_one_event_with_the_message_kept_once() -> None:
    next_header = (
        "\x1b[32m[Nest] 6  - \x1b[39m12/07/2026, 2:09:01 PM \x1b[32m    LOG\x1b[39m \x1b[38;5;3m[HTTP] \x1b[39mok"
    )
    events = parse(timed([*STRIPE, next_header]))
    assert [(e.logger, e.lines) for e in events] == [("StripeWebhookService", len(STRIPE)), ("HTTP", 1)]
    assert events[0].message == "\n".join([FIRST, SECOND, "", LEARN])
    assert events[0].stack == "\n".join(["Error: " + FIRST, SECOND, "", LEARN, "", *FRAMES])
    assert events[0].level == "error"


def test_the_colour_reset_line_with_the_time_since_the_last_line_is_not_part_of_the_message() -> None:
    lines = [HEADER, SECOND, "\x1b[39m\x1b[38;5;3m +12ms\x1b[39m", "Error: " + FIRST, *FRAMES]
    (event,) = parse(timed(lines))
    assert event.message == f"{FIRST}\n{SECOND}"


def test_a_frame_coloured_grey_by_node_continues_the_exception_handlers_event() -> None:
    lines = [
        "\x1b[31m[Nest] 6  - \x1b[39m12/07/2026, 2:09:01 PM \x1b[31m  ERROR\x1b[39m \x1b[38;5;3m[ExceptionsHandler] "
        "\x1b[39mTypeError: Cannot read properties of undefined (reading 'renditions')",
        "    at ClipsController.publish \x1b[90m(/w\x1b[39mork/app/src/clips.controller.js:43:36\x1b[90m)\x1b[39m",
        "\x1b[90m    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\x1b[39m",
        "    at async \x1b[90m/w\x1b[39mork/app/node_modules/\x1b[4m@nestjs/core\x1b[24m/router/router-proxy.js:9:17",
    ]
    (event,) = parse(timed(lines))
    assert event.message == "TypeError: Cannot read properties of undefined (reading 'renditions')"
    assert event.stack is not None
    assert (
        event.stack.splitlines()[1]
        == "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"
    )


def test_a_line_of_another_logger_right_after_the_header_is_an_event_of_its_own() -> None:
    lines = [HEADER, "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 127.0.0.1:6379", SECOND]
    events = parse(timed(lines))
    assert [e.logger for e in events] == ["StripeWebhookService", "ioredis", ""]


def test_a_plain_line_long_after_the_header_is_an_event_of_its_own() -> None:
    raws = [RawLine(HEADER.encode(), STDERR, T0), RawLine(b"worker 3 exited", STDERR, T0 + 2_000_000_000)]
    assert [e.message for e in parse(raws)] == [FIRST, "worker 3 exited"]


def test_a_stack_written_late_still_joins_its_header() -> None:
    late = T0 + 300_000_000  # a loaded host: the stack's write stamped 300 ms after the header's
    raws = [RawLine(HEADER.encode(), STDERR, T0)]
    raws += [
        RawLine(line.encode(), STDERR, late + i * 1_000) for i, line in enumerate(["Error: " + FIRST, SECOND, *FRAMES])
    ]
    (event,) = parse(raws)
    assert event.stack is not None
    assert event.stack.startswith("Error: " + FIRST + "\n" + SECOND)


def test_an_exception_line_after_an_info_line_is_its_own_event_even_at_once() -> None:
    lines = ["[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG [App] started", "Error: something else", *FRAMES[:1]]
    assert [e.message for e in parse(timed(lines))] == ["started", "Error: something else"]


def test_behind_a_compose_prefix_the_lines_carrying_it_continue_the_event() -> None:
    prefix = "clipforge-api-1  | "
    lines = [prefix + HEADER, prefix + SECOND, prefix, prefix + LEARN, prefix + "\x1b[39m", prefix + "Error: " + FIRST]
    lines += [prefix + frame for frame in FRAMES]
    (event,) = parse(timed(lines))
    assert (event.message, event.fields["prefix"]) == ("\n".join([FIRST, SECOND, "", LEARN]), "clipforge-api-1  |")
    assert event.stack == "\n".join(["Error: " + FIRST, *FRAMES])


def test_behind_a_journald_prefix_a_later_second_in_the_prefix_still_continues() -> None:
    lines = [
        "Dec 07 14:09:01 api-host node[812]: [Nest] 812  - 12/07/2026, 2:09:01 PM   ERROR [CreditsService] "
        "Credit deduction failed for user usr_1: connect ECONNREFUSED 10.0.0.5:5432",
        "Dec 07 14:09:02 api-host node[812]: Error: connect ECONNREFUSED 10.0.0.5:5432",
        "Dec 07 14:09:02 api-host node[812]:     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
        "Dec 07 14:09:02 other-host cron[77]: (root) CMD (run-parts /etc/cron.hourly)",
    ]
    first, second = parse(timed(lines))
    assert first.stack == "\n".join([lines[1].split(": ", 1)[1], lines[2].split(": ", 1)[1]])
    assert second.message.endswith("(root) CMD (run-parts /etc/cron.hourly)")


def test_a_message_that_starts_on_the_next_line_is_read_from_there() -> None:
    """Prisma's messages open with a newline: the header carries nothing of it."""
    lines = [
        "[Nest] 7  - 12/07/2026, 2:09:01 PM   ERROR [UsersService] ",
        "Invalid `prisma.user.create()` invocation:",
        "",
        "Unique constraint failed on the fields: (`email`)",
        "PrismaClientKnownRequestError: ",
        "Invalid `prisma.user.create()` invocation:",
        "",
        "Unique constraint failed on the fields: (`email`)",
        "    at Rn.handleRequestError (/app/node_modules/@prisma/client/runtime/library.js:121:7315)",
    ]
    (event,) = parse(timed(lines))
    assert (
        event.message
        == "Invalid `prisma.user.create()` invocation:\n\nUnique constraint failed on the fields: (`email`)"
    )
    assert event.stack is not None
    assert event.stack.startswith("PrismaClientKnownRequestError: \nInvalid")


def test_the_group_caps_bound_a_block_and_every_line_is_counted() -> None:
    lines = [HEADER, *(f"line {i}" for i in range(50))]
    (event,) = parse(timed(lines), limits=Limits(max_group_lines=10))
    assert (event.lines, event.flags) == (51, ("multiline_cut",))
    assert event.message.splitlines()[-1] == "line 9"
