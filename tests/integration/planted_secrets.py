"""A corpus of log lines with secrets planted in every place a secret can hide (message, fields, field names,
stack traces, the logger, a regex capture used for grouping), in the four shapes logpipe reads from ClipForge
(NestJS text, NestJS JSON, pino, structlog), and the non-secrets that must come through untouched."""

from __future__ import annotations

import json
from dataclasses import dataclass

# what must survive redaction everywhere it appears
ORDER_ID = "order_Nf3kq9ZlS0xYb1"
REQUEST_ID = "req-7f3a91c2"
SURVIVORS = (ORDER_ID, REQUEST_ID, "tokenCount", "2026-11-27T09:0")

PLANTED_RULES = """\
rules:
  - id: planted-secret
    title: Planted secret
    severity: critical
    runbook: Nothing to do; a test.
    match:
      all:
        - level: {gte: error}
        - message: {regex: 'planted (?P<who>\\S+)'}
    group_by: [logger, who]
    examples:
      match: ['{"level":"error","message":"planted x","context":"C"}']
      no_match: ['{"level":"info","message":"planted x","context":"C"}']
"""


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str  # what must not appear anywhere after redaction
    text: str  # how it is written in a log (the value with its name or header, where it needs one)
    spaced: bool = False  # text holds spaces: it cannot be a logger name or a single-token capture


def _luhn_complete(prefix: str) -> str:
    """A 16-digit card number starting with `prefix` that passes the Luhn check."""
    for last in range(10):
        digits = f"{prefix}{last}"
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def secrets(n: int) -> list[Secret]:
    """The n-th variant of every secret shape (values differ per n, so every case is its own alert)."""
    k = f"{n:02d}"
    hexes = (k * 16)[:32]
    b64 = f"wJalrXUtnFEMI/K7MDENG/bPxRfiCY{k}EXAMPLEK"[:40]
    card = _luhn_complete(f"42424242424{n:02d}42"[:15])
    mastercard = _luhn_complete(f"55555555555{n:02d}44"[:15])
    return [
        Secret("aws-key-id", f"AKIA{k}ABCDEFGHIJKLMN", f"AKIA{k}ABCDEFGHIJKLMN"),
        Secret("aws-secret", b64, f"aws_secret_access_key={b64}"),
        Secret(
            "github-classic",
            f"ghp_{k}16C7e42F292c6912E7710c838347Ae178B4a",
            f"ghp_{k}16C7e42F292c6912E7710c838347Ae178B4a",
        ),
        Secret("github-fine", f"github_pat_11ABC{k}" + "x" * 60, f"github_pat_11ABC{k}" + "x" * 60),
        Secret("gitlab", f"glpat-{k}xX1yY2zZ3aA4bB5cC6", f"glpat-{k}xX1yY2zZ3aA4bB5cC6"),
        Secret(
            "slack-token",
            f"xoxb-1534459{k}147-Tjy11gGxUW6Cf99YOYwtzG0K",
            f"xoxb-1534459{k}147-Tjy11gGxUW6Cf99YOYwtzG0K",
        ),
        Secret(
            "slack-webhook",
            f"T0ABCD{k}G/B0ABCDEFG/AbCdEfGhIjKlMnOpQrStUvWx",
            f"https://hooks.slack.com/services/T0ABCD{k}G/B0ABCDEFG/AbCdEfGhIjKlMnOpQrStUvWx",
        ),
        Secret("stripe-secret", f"sk_live_51H{k}YzAbCdEfGhIjKlMn", f"sk_live_51H{k}YzAbCdEfGhIjKlMn"),
        Secret("stripe-webhook", f"whsec_{k}AbCdEfGh12345678", f"whsec_{k}AbCdEfGh12345678"),
        Secret("razorpay-key", f"rzp_live_{k}AbCdEfGh1234", f"rzp_live_{k}AbCdEfGh1234"),
        Secret("razorpay-secret", f"Xy7Gh2Kp9LmQ4rTz8WvB1n{k}", f"secret Xy7Gh2Kp9LmQ4rTz8WvB1n{k}", spaced=True),
        Secret("sentry-dsn", hexes, f"https://{hexes}@o4505.ingest.sentry.io/45{k}"),
        Secret(
            "sendgrid",
            f"SG.ngeVfQFYQlKU0ufo8x5d{k}.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
            f"SG.ngeVfQFYQlKU0ufo8x5d{k}.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
        ),
        Secret("twilio", f"SK{hexes}", f"SK{hexes}"),
        Secret(
            "jwt",
            f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3{k}IifQ.sig_nature-x{k}",
            f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3{k}IifQ.sig_nature-x{k}",
        ),
        Secret("redis-url", f"s3cr{k}etpw", f"redis://:s3cr{k}etpw@cache:6379/0"),
        Secret("postgres-url", f"hunt{k}er2pw", f"postgres://clipforge:hunt{k}er2pw@db:5432/app"),
        Secret("bearer", f"abcdefghijklmnop{k}34", f"Authorization: Bearer abcdefghijklmnop{k}34", spaced=True),
        Secret("basic", f"dXNlcjpwYXNz{k}d29yZA==", f"sent Basic dXNlcjpwYXNz{k}d29yZA== upstream", spaced=True),
        Secret("cookie", f"s%3Aabc{k}123.def", f"Cookie: sid=s%3Aabc{k}123.def; theme=dark", spaced=True),
        Secret("password-pair", f"Hunter{k}pass", f"password=Hunter{k}pass"),
        Secret("json-pair", f"Sup3r{k}Secret", f'{{"client_secret":"Sup3r{k}Secret"}}'),
        Secret("colon-pair", f"k_live_{k}9a8b7c", f"api_key: k_live_{k}9a8b7c", spaced=True),
        Secret("query-token", f"tok{k}abc.def-123", f"/cb?code=1&access_token=tok{k}abc.def-123&state=x"),
        Secret("card", card, f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}", spaced=True),
        Secret("card-dashes", mastercard, f"{mastercard[:4]}-{mastercard[4:8]}-{mastercard[8:12]}-{mastercard[12:]}"),
        Secret("iban", "DE89370400440532013000", "DE89370400440532013000"),
        Secret("email", f"a.b+c{k}@sub.example.co.uk", f"a.b+c{k}@sub.example.co.uk"),
        Secret(
            "private-key",
            f"MIIEowIBAAKCAQEAx4T{k}secretkeybody",
            # as a key kept in an environment variable prints: one line, its newlines escaped
            f"-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAx4T{k}secretkeybody\\n-----END RSA PRIVATE KEY-----",
            spaced=True,
        ),
    ]


PLACES = ("message", "field", "key", "stack", "logger", "capture")
FORMATS = ("nest-text", "nest-json", "pino", "structlog")


@dataclass(frozen=True)
class Case:
    secret: Secret
    place: str
    shape: str
    line: str


def _line(shape: str, index: int, message: str, logger: str, fields: dict[str, object], stack: str | None) -> str:
    second = index % 60
    ms = 1795770070000 + index * 1000
    if shape == "nest-text":  # fields cannot be written in text: they go into the message
        extra = " ".join(f"{key}={value}" for key, value in fields.items())
        text = f"[Nest] 1  - 11/27/2026, 9:01:{second:02d} AM   ERROR [{logger}] {message} {extra}"
        return text + ("\n" + stack if stack else "")
    if shape == "nest-json":
        record: dict[str, object] = {"level": "error", "pid": 1, "timestamp": ms, "message": message}
        record.update(fields)
        record["context"] = logger
        if stack:
            record["stack"] = [stack]
    elif shape == "pino":
        record = {"level": 50, "time": ms, "pid": 1, "hostname": "api-1", "name": logger, "msg": message}
        record.update(fields)
        if stack:
            record["err"] = {"type": "Error", "message": "failed", "stack": stack}
    else:
        record = {
            "event": message,
            "level": "error",
            "logger": logger,
            "timestamp": f"2026-11-27T09:01:{second:02d}.123456Z",
        }
        record.update(fields)
        if stack:
            record["exception"] = stack
    return json.dumps(record)


def corpus() -> list[Case]:
    """Every secret shape in each place, the shapes taking turns: 29 x 6 = 174 cases (fewer where a place
    cannot hold a shape: a spaced secret is no logger name nor a one-token capture)."""
    cases: list[Case] = []
    index = 0
    for round_ in range(6):
        for secret in secrets(round_):
            place = PLACES[(round_ + index) % len(PLACES)]
            shape = FORMATS[index % len(FORMATS)]
            if secret.spaced and place in ("logger", "capture"):
                place = "message"
            if secret.spaced and place == "key" and shape == "nest-text":
                place = "field"
            if "\n" in secret.text and place in ("field", "key") and shape == "nest-text":
                place = "stack"
            fields: dict[str, object] = {"orderId": ORDER_ID, "tokenCount": 512, "reqId": REQUEST_ID}
            message, logger, stack = f"planted case{index} charge failed for {ORDER_ID}", "PaymentsService", None
            if place == "message":
                message += f" with {secret.text}"
            elif place == "field":
                fields["detail"] = secret.text
            elif place == "key":
                fields[secret.text] = 1
            elif place == "stack":
                stack = f"Error: charge failed with {secret.text}\n    at PaymentsService.charge (/app/dist/p.js:1:1)"
            elif place == "logger":
                logger = f"Ctx-{secret.text}"
            else:  # a named capture used in group_by
                message = f"planted {secret.text} charge failed for {ORDER_ID} case{index}"
            if secret.kind == "card" and place == "field" and shape != "nest-text":
                fields["card"] = int(secret.value)  # a card number stored as a JSON number
            cases.append(Case(secret, place, shape, _line(shape, index, message, logger, fields, stack)))
            index += 1
    return cases


def forms(secret: Secret) -> tuple[str, ...]:
    """How a secret may show in an output: its value, and for card numbers also as written (with separators)."""
    return (secret.value, secret.text) if secret.kind.startswith("card") else (secret.value,)


def leaks(text: str, cases: list[Case]) -> list[str]:
    """The planted secrets found in `text` (with their kind and place), for an assertion message."""
    return [
        f"{case.secret.kind}/{case.place}/{case.shape}: {case.secret.value}"
        for case in cases
        if any(form in text for form in forms(case.secret))
    ]
