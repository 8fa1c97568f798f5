"""Node's crash banners, as Node 20 printed them here (`node script.js` that throws, rejects, emits an unhandled
'error', throws a string): each crash is one event of level error, its banner, thrown value, stack and trailer
together, whatever the thrown value's first line looks like."""

from __future__ import annotations

from tests.unit.parsers.helpers import STDERR, STDOUT, parse

ORIGINATED = (
    "This error originated either by throwing inside of an async function without a catch block, or by rejecting a "
    "promise which was not handled with .catch()."
)

THROW = """/app/dist/config.js:1
function load(config) { return config.db.url; }
                                      ^

TypeError: Cannot read properties of null (reading 'db')
    at load (/app/dist/config.js:1:39)
    at Object.<anonymous> (/app/dist/config.js:2:1)

Node.js v20.20.2"""
REJECTION = f"""node:internal/process/promises:389
      new UnhandledPromiseRejection(reason);
      ^

UnhandledPromiseRejection: {ORIGINATED} The promise rejected with the reason "quota exceeded".
    at throwUnhandledRejectionsMode (node:internal/process/promises:389:7)
    at process.processTicksAndRejections (node:internal/process/task_queues:96:32) {{
  code: 'ERR_UNHANDLED_REJECTION'
}}

Node.js v20.20.2"""
EMITTER = """node:events:502
      throw er; // Unhandled 'error' event
      ^

Error: connect ECONNREFUSED 127.0.0.1:1
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)
Emitted 'error' event on Socket instance at:
    at emitErrorNT (node:internal/streams/destroy:169:8)
    at process.processTicksAndRejections (node:internal/process/task_queues:82:21) {
  errno: -111,
  code: 'ECONNREFUSED'
}

Node.js v20.20.2"""
THROWN_STRING = """/app/dist/main.js:1
throw 'config missing';
^
config missing
(Use `node --trace-uncaught ...` to show where the exception was thrown)

Node.js v20.20.2"""
# Node 16-18: the thrown value's line opens with a bracket, and carries no level
BRACKETED = f"""node:internal/process/promises:279
            triggerUncaughtException(err, true /* fromPromise */);
            ^

[UnhandledPromiseRejection: {ORIGINATED} The promise rejected with the reason "#<Object>".] {{
  code: 'ERR_UNHANDLED_REJECTION'
}}"""


def test_each_crash_banner_is_one_error_event_with_its_stack() -> None:
    for banner in (THROW, REJECTION, EMITTER, THROWN_STRING, BRACKETED):
        lines = banner.split("\n")
        (event,) = parse(lines, STDOUT)  # on stdout too: a paste, a logger that merged the streams
        assert (event.level, event.lines, event.message) == ("error", len(lines), lines[0]), banner
        assert event.stack == "\n".join(lines[1:]).rstrip(), banner


def test_without_a_caret_under_its_source_line_a_location_line_opens_no_banner() -> None:
    """The line after a location is taken as its source line before the caret can be seen (no look-ahead): the
    lines after that are events of their own."""
    events = parse(["/app/dist/main.js:12", "listening on 3000", "ready"], STDOUT)
    assert [(e.message, e.level) for e in events] == [
        ("/app/dist/main.js:12\nlistening on 3000", "info"),
        ("ready", "info"),
    ]


def test_the_explanation_node_12_adds_to_an_unhandled_rejection_warning_continues_it() -> None:
    lines = [
        "(node:3524) UnhandledPromiseRejectionWarning: #<Object>",
        "(node:3524) UnhandledPromiseRejectionWarning: Unhandled promise rejection. This error originated either by "
        "throwing inside of an async function without a catch block, or by rejecting a promise which was not handled "
        "with .catch().",
        "(node:3524) [DEP0018] DeprecationWarning: Unhandled promise rejections are deprecated.",
    ]
    events = parse(lines, STDERR)
    assert [e.lines for e in events] == [2, 1]


def test_a_stack_frame_with_nothing_above_it_is_an_error() -> None:
    (event,) = parse(["    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"], STDOUT)
    assert event.level == "error"
