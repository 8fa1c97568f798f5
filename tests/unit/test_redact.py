from __future__ import annotations

import orjson
import pytest

from logpipe.redact import MASK, RedactionConfig, Redactor, luhn_valid
from tests.unit.parsers.helpers import parse_one

redactor = Redactor()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0", f"Authorization: {MASK}"),
        ("calling with bearer abcdefghijklmnop1234", f"calling with bearer {MASK}"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3IifQ.sig_nature-x ok", f"jwt {MASK} ok"),
        ("key sk_live_51HxYzAbCdEfGhIjKl set", f"key {MASK} set"),
        ("secret whsec_AbCdEfGh12345678", f"secret {MASK}"),
        ("razorpay rzp_live_AbCdEfGh123456 in use", f"razorpay {MASK} in use"),
        ("db postgres://clipforge:hunter2@db:5432/app", f"db postgres://{MASK}@db:5432/app"),
        ("dsn https://abc123@o1.ingest.sentry.io/5", f"dsn https://{MASK}@o1.ingest.sentry.io/5"),
        ("login password=hunter2 ok", f"login password={MASK} ok"),
        ('{"client_secret": "s3cr3t"}', f'{{"client_secret": "{MASK}"}}'),
        ("header x-razorpay-signature: 9f8e7d", f"header x-razorpay-signature: {MASK}"),
        ("card 4242 4242 4242 4242 declined", "card [CARD ****4242] declined"),
        ("card 5555-5555-5555-4444", "card [CARD ****4444]"),
        ("mail bob.smith@example.com now", "mail b***@example.com now"),
    ],
)
def test_secrets_in_text_are_redacted(text: str, expected: str) -> None:
    assert redactor.text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order order_Nf3kq9ZlS0xYb1 paid",  # Razorpay order id
        "order 4242424242424241 paid",  # 16 digits that fail the Luhn check
        "at 1795770114123 took 5123ms",  # epoch ms timestamp and a duration
        "ns 1795770114123456789",  # epoch ns
        "2026-11-27T09:01:54.123456789Z GET /api/v1/clips/clp_1 200 23ms",
        "tokenCount=512 credits=5 balance=2",  # names that merely start like a secret
        "request id 5694b3c2-1d3e-4f5a-9b8c-7d6e5f4a3b2c",
    ],
)
def test_ordinary_values_survive(text: str) -> None:
    assert redactor.text(text) == text


def test_fields_are_redacted_by_name_recursively() -> None:
    fields = {
        "password": "hunter2",
        "headers": {"Authorization": "Bearer x", "stripe-signature": "t=1,v1=ab", "x-request-id": "r1"},
        "user": {"email": "a@b.io", "accessToken": "tok", "tokenCount": 3},
        "items": [{"card_number": "4111111111111111"}, "4111 1111 1111 1111"],
        "durationMs": 23,
    }
    assert redactor.mapping(fields) == {
        "password": MASK,
        "headers": {"Authorization": MASK, "stripe-signature": MASK, "x-request-id": "r1"},
        "user": {"email": "a***@b.io", "accessToken": MASK, "tokenCount": 3},
        "items": [{"card_number": MASK}, "[CARD ****1111]"],
        "durationMs": 23,
    }


def test_event_raw_json_line_is_redacted_like_its_fields() -> None:
    event = parse_one('{"level":"info","msg":"login","password":"hunter2","user":"u1","time":1795770114123}')
    redacted = redactor.event(event)
    assert redacted.fields == {"password": MASK, "user": "u1"}
    assert orjson.loads(redacted.raw)["password"] == MASK
    assert "hunter2" not in redacted.to_json().decode()


def test_email_policy_and_extra_patterns_are_configurable() -> None:
    strict = Redactor(RedactionConfig(emails="remove", extra_patterns=(r"usr_[a-z0-9]+",)))
    assert strict.text("bob@example.com usr_7f3a91") == f"[EMAIL] {MASK}"
    assert Redactor(RedactionConfig(emails="keep")).text("bob@example.com") == "bob@example.com"


def test_luhn() -> None:
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")


def test_payload_redacts_keys_values_numbers_and_json_held_in_strings() -> None:
    alert = {
        "group": {"message": "UnhandledPromiseRejection for a.b+c@sub.example.co.uk key sk_live_51HxYzAbCdEfGhIj"},
        "event": {
            "logger": "Ctx-sk_live_51HxYzAbCdEfGhIj",
            "fields": {"card": 4242424242424242, "orderTotal": 4999, "ghp_16C7e42F292c6912E7710c838347Ae178B4a": 1},
            "raw": '{"password":"hunter2","n":5}',
        },
        "samples": [("AKIAIOSFODNN7EXAMPLE", None, True, 1.5)],
        "tokenCount": 512,
    }
    assert redactor.payload(alert) == {
        "group": {"message": f"UnhandledPromiseRejection for a***@sub.example.co.uk key {MASK}"},
        "event": {
            "logger": f"Ctx-{MASK}",
            "fields": {"card": "[CARD ****4242]", "orderTotal": 4999, MASK: 1},
            "raw": f'{{"password":"{MASK}","n":5}}',
        },
        "samples": [[MASK, None, True, 1.5]],
        "tokenCount": 512,
    }


def test_two_field_names_redacted_alike_keep_both_values() -> None:
    fields = {"sk_live_51HxYzAbCdEfGhIjAA": 1, "sk_live_51HxYzAbCdEfGhIjBB": 2}
    assert redactor.payload(fields) == {MASK: 1, f"{MASK}#1": 2}


def test_a_json_string_with_nothing_secret_is_left_byte_for_byte() -> None:
    raw = '{"msg": "ok",  "n": 1}'
    assert redactor.payload({"raw": raw}) == {"raw": raw}


def test_event_json_redacts_the_logger_too() -> None:
    event = parse_one('{"level":"error","message":"x","context":"Ctx-sk_live_51HxYzAbCdEfGhIj"}')
    assert orjson.loads(redactor.event_json(event))["logger"] == f"Ctx-{MASK}"
    assert redactor.event(event).logger == f"Ctx-{MASK}"
