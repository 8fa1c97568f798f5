from __future__ import annotations

import orjson

from tests.unit.parsers.helpers import parse, parse_one

MS = 1_795_770_114_123  # 2026-11-27T09:01:54.123Z in epoch ms


def test_nestjs_json_mode() -> None:
    line = orjson.dumps(
        {
            "level": "error",
            "pid": 1,
            "timestamp": MS,
            "message": "Webhook signature verification failed",
            "context": "StripeWebhookController",
            "stack": "Error: x\n    at y (a.js:1:2)",
        }
    ).decode()
    event = parse_one(line)
    assert (event.parser, event.level, event.logger, event.message) == (
        "json",
        "error",
        "StripeWebhookController",
        "Webhook signature verification failed",
    )
    assert event.log_time == MS * 1_000_000
    assert event.fields == {"pid": 1, "stack": "Error: x\n    at y (a.js:1:2)"}
    assert event.stack == "Error: x\n    at y (a.js:1:2)"


def test_nestjs_json_object_message_keeps_the_object_and_matches_as_text() -> None:
    event = parse_one(f'{{"level":"log","pid":1,"timestamp":{MS},"message":{{"userId":"usr_1","credits":5}}}}')
    assert event.message == '{"userId":"usr_1","credits":5}'
    assert event.get("message") == event.message  # the normalised attribute wins over the field


def test_pino_numeric_levels_err_and_http_fields() -> None:
    line = orjson.dumps(
        {
            "level": 50,
            "time": MS,
            "pid": 1,
            "hostname": "api",
            "msg": "request errored",
            "req": {"method": "POST", "url": "/api/v1/payments/stripe/webhook"},
            "res": {"statusCode": 500},
            "responseTime": 37,
            "err": {"type": "Error", "message": "boom", "stack": "Error: boom\n    at x"},
        }
    ).decode()
    event = parse_one(line)
    assert (event.level, event.message) == ("error", "request errored")
    assert event.get("req.method") == "POST"
    assert event.get("res.statusCode") == 500
    assert event.get("responseTime") == 37
    assert event.stack == "Error: boom\n    at x"


def test_pino_levels() -> None:
    levels = [parse_one(f'{{"level":{n},"msg":"m"}}').level for n in (10, 20, 30, 40, 50, 60)]
    assert levels == ["debug", "debug", "info", "warning", "error", "critical"]


def test_structlog_output() -> None:
    event = parse_one(
        '{"event":"clip rendered","level":"info","timestamp":"2026-11-27T09:01:54.123456Z",'
        '"logger":"worker.render","clip_id":"clp_1","duration_ms":812}'
    )
    assert (event.message, event.level, event.logger) == ("clip rendered", "info", "worker.render")
    assert event.log_time == MS * 1_000_000 + 456_000
    assert event.fields == {"clip_id": "clp_1", "duration_ms": 812}


def test_bunyan_and_generic_aliases() -> None:
    bunyan = parse_one(
        '{"name":"billing","hostname":"h","pid":3,"level":40,"msg":"retry","time":"2026-11-27T09:01:54.123Z","v":0}'
    )
    assert (bunyan.level, bunyan.logger, bunyan.message) == ("warning", "billing", "retry")
    generic = parse_one('{"severity":"ERROR","@timestamp":"2026-11-27T09:01:54.123+00:00","text":"x"}')
    assert (generic.level, generic.message, generic.log_time) == ("error", "x", MS * 1_000_000)


def test_unknown_level_and_bad_time_stay_in_fields() -> None:
    event = parse_one('{"level":"chatty","time":"yesterday","msg":"m"}')
    assert event.level == "info"
    assert event.fields == {"level": "chatty", "time": "yesterday"}


def test_json_that_is_not_an_object_is_plain_text() -> None:
    assert parse_one("[1, 2, 3]").parser == "plain"
    assert parse_one('"just a string"').parser == "plain"


def test_broken_json_is_kept_and_flagged_unparsed() -> None:
    event = parse_one('{"level":"error","msg":"cut off here}')
    assert (event.parser, event.flags, event.message) == (
        "unparsed",
        ("invalid_json",),
        '{"level":"error","msg":"cut off here}',
    )


def test_json_lines_are_never_joined_even_when_indented_lines_follow() -> None:
    events = parse(['{"level":"error","msg":"a"}', "    at something (x.js:1:1)", '{"msg":"b"}'])
    assert [e.message for e in events] == ["a", "    at something (x.js:1:1)", "b"]


def test_a_parser_that_raises_loses_no_line() -> None:
    from logpipe.event import Origin
    from logpipe.parsers.detect import Detector

    class Broken:
        name = "broken"
        first_chars = "{"
        takes_continuation = False

        def parse(self, *_: object) -> None:
            raise ZeroDivisionError("boom")

    event = Detector([Broken()]).parse('{"level":"error","msg":"x"}', Origin("file", "a.log"), 5, 6)  # type: ignore[list-item]
    assert (event.parser, event.flags, event.message) == ("unparsed", ("parser_error",), '{"level":"error","msg":"x"}')
    assert event.fields == {"parser_error": "broken: ZeroDivisionError"}
