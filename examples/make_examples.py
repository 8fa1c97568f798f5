"""Write the bundled ClipForge example logs: one scripted incident timeline, rendered as each logger prints it.

    python examples/make_examples.py        # rewrites examples/*.log (deterministic: same bytes every run)

Files, all as logpipe would read them from Docker:
- clipforge-api-text.log   NestJS ConsoleLogger text with colours, `docker logs -t` (Docker timestamp prefix)
- clipforge-api-json.log   NestJS JSON mode, Docker json-file records (streams kept, a long line split in 16 KiB
                           partial chunks, a plain ioredis stack trace on stderr in between)
- clipforge-api-pino.log   nestjs-pino / pino-http JSON, `docker logs -t`

The timeline (UTC, 2026-11-27), each incident once:
  09:00:00  boot
  09:01:10  Stripe webhook signature failure          09:01:40  Razorpay webhook signature failure
  09:02:00  credit deduction failed (insufficient)     09:02:30  credit deduction deadlock
  09:03:00  Postgres unreachable: TypeORM retries 1-5, "Connection terminated unexpectedly"
  09:04:00  Redis unreachable: ioredis ECONNREFUSED :6379, MaxRetriesPerRequestError
  09:05:00  5xx spike (40 % of requests fail for two minutes), ExceptionsHandler errors
  09:07:00  slow responses (p95 over 5 s for a minute); one 4.7 s request at 09:06:30 alone must not alert
  09:08:00  Stripe payment accepted + credits granted (usr_ok); accepted with no grant (usr_lost)
  09:08:30  last request; then silence: the API is down (no access log) until 09:15:00
  09:15:00  restart, boot, traffic resumes until 09:16:00
Background: one request every 2 s, with some 401/404 (4xx are never errors).
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
PID = 1


@dataclass
class Log:
    """One log call of the NestJS app, before a logger formats it."""

    at: datetime
    level: str  # NestJS: log, error, warn, debug, verbose, fatal
    context: str
    message: str
    stack: str | None = None
    access: dict[str, object] | None = None  # method, url, status, ms, bytes: an access-log line
    extra: dict[str, object] = field(default_factory=dict)


def stack(error: str, *frames: str) -> str:
    return "\n".join([error, *(f"    at {frame}" for frame in frames)])


STRIPE_STACK = stack(
    "StripeSignatureVerificationError: No signatures found matching the expected signature for payload. "
    "Are you passing the raw request body you received from Stripe?",
    "Function.verifyHeader (/app/node_modules/stripe/cjs/Webhooks.js:107:23)",
    "Object.constructEvent (/app/node_modules/stripe/cjs/Webhooks.js:12:24)",
    "StripeWebhookController.handle (/app/dist/payments/stripe-webhook.controller.js:41:45)",
)
RAZORPAY_STACK = stack(
    "BadRequestException: Invalid razorpay webhook signature",
    "RazorpayWebhookController.handle (/app/dist/payments/razorpay-webhook.controller.js:38:19)",
    "/app/node_modules/@nestjs/core/router/router-execution-context.js:46:28",
)
DEADLOCK_STACK = stack(
    "QueryFailedError: deadlock detected",
    "PostgresQueryRunner.query (/app/node_modules/typeorm/driver/postgres/PostgresQueryRunner.js:219:19)",
    "CreditsService.deduct (/app/dist/credits/credits.service.js:74:13)",
)
PG_STACK = stack(
    "Error: connect ECONNREFUSED 172.18.0.3:5432",
    "TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)",
)
PG_TERMINATED_STACK = stack(
    "Error: Connection terminated unexpectedly",
    "Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)",
    "Object.onceWrapper (node:events:634:28)",
)
REDIS_STACK = stack(
    "MaxRetriesPerRequestError: Reached the max retries per request limit (which is 20). "
    'Refer to "maxRetriesPerRequest" option for details.',
    "Socket.<anonymous> (/app/node_modules/ioredis/built/redis/event_handler.js:182:37)",
)
UNHANDLED_STACK = stack(
    "TypeError: Cannot read properties of undefined (reading 'renditions')",
    "ClipsService.publish (/app/dist/clips/clips.service.js:212:41)",
    "ClipsController.publish (/app/dist/clips/clips.controller.js:63:33)",
)
IOREDIS_PLAIN = (
    "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 172.18.0.4:6379\n"
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)\n"
    "    at TCPConnectWrap.callbackTrampoline (node:internal/async_hooks:130:17)"
)

PATHS = [
    ("GET", "/api/v1/clips/clp_{id}"),
    ("GET", "/api/v1/clips?page={n}"),
    ("POST", "/api/v1/clips/clp_{id}/render"),
    ("GET", "/api/v1/credits/balance"),
    ("GET", "/api/v1/health"),
]


def timeline() -> list[Log]:
    rng = random.Random(20261127)
    logs: list[Log] = []

    def boot(at: datetime) -> None:
        for offset, context, message in [
            (0.00, "NestFactory", "Starting Nest application..."),
            (0.02, "InstanceLoader", "TypeOrmModule dependencies initialized"),
            (0.03, "InstanceLoader", "BullModule dependencies initialized"),
            (0.05, "RoutesResolver", "ClipsController {/api/v1/clips}:"),
            (0.06, "RouterExplorer", "Mapped {/api/v1/payments/stripe/webhook, POST} route"),
            (0.07, "RouterExplorer", "Mapped {/api/v1/payments/razorpay/webhook, POST} route"),
            (0.10, "NestApplication", "Nest application successfully started"),
        ]:
            logs.append(Log(at + timedelta(seconds=offset), "log", context, message))

    def request(at: datetime, status: int, ms: int, method: str | None = None, url: str | None = None) -> None:
        if method is None or url is None:
            method, template = rng.choice(PATHS)
            url = template.format(id=f"{rng.randrange(16**8):08x}", n=rng.randint(1, 9))
        access = {"method": method, "url": url, "status": status, "ms": ms, "bytes": rng.randint(90, 9000)}
        logs.append(Log(at, "log", "HTTP", "", access=access))

    boot(START)
    for up_from, up_to in ((0.5, 510.0), (901.0, 960.0)):  # seconds after START
        t = up_from
        while t < up_to:
            at = START + timedelta(seconds=t)
            roll = rng.random()
            if 300 <= t < 420:  # 5xx spike: 40 % of requests fail for two minutes
                status = 500 if roll < 0.40 else 200
            else:
                status = 401 if roll < 0.05 else 404 if roll < 0.10 else 200
            if 420 <= t < 480:  # slow minute
                ms = rng.randint(5200, 9000) if roll < 0.5 else rng.randint(20, 300)
            else:
                ms = rng.randint(8, 180)
            request(at, status, ms)
            if status == 500:
                logs.append(
                    Log(
                        at - timedelta(milliseconds=2),
                        "error",
                        "ExceptionsHandler",
                        "Cannot read properties of undefined (reading 'renditions')",
                        UNHANDLED_STACK,
                    )
                )
            t += 2.0
    request(START + timedelta(seconds=390.5), 200, 4700)  # one slow request, alone: no alert

    def at(seconds: float) -> datetime:
        return START + timedelta(seconds=seconds)

    logs += [
        Log(
            at(70.1),
            "error",
            "StripeWebhookController",
            "Webhook signature verification failed: No signatures found matching the expected signature for payload",
            STRIPE_STACK,
            extra={"provider": "stripe"},
        ),
        Log(
            at(100.1),
            "error",
            "RazorpayWebhookController",
            "Razorpay webhook signature verification failed (x-razorpay-signature mismatch) for order "
            "order_Nf3kq9ZlS0xYb1",
            RAZORPAY_STACK,
            extra={"provider": "razorpay"},
        ),
        Log(
            at(120.1),
            "error",
            "CreditsService",
            "Credit deduction failed for user usr_7f3a91: insufficient balance (balance=2, required=5)",
        ),
        Log(
            at(150.1),
            "error",
            "CreditsService",
            "Credit deduction failed for user usr_c01d22: deadlock detected",
            DEADLOCK_STACK,
        ),
    ]
    for attempt in range(1, 6):
        logs.append(
            Log(
                at(180 + 3 * attempt),
                "error",
                "TypeOrmModule",
                f"Unable to connect to the database. Retrying ({attempt})...",
                PG_STACK,
            )
        )
    logs.append(Log(at(197.0), "error", "ExceptionsHandler", "Connection terminated unexpectedly", PG_TERMINATED_STACK))
    for attempt in range(3):
        logs.append(Log(at(240 + 2 * attempt), "plain", "", IOREDIS_PLAIN))
    logs.append(
        Log(at(247.0), "error", "ClipRenderQueue", "Failed to enqueue render job: Connection is closed.", REDIS_STACK)
    )
    logs += [
        Log(
            at(480.2),
            "log",
            "StripeWebhookController",
            "Payment accepted: checkout.session.completed cs_live_a1 for user usr_ok (credits=100)",
            extra={"userId": "usr_ok", "event_type": "checkout.session.completed"},
        ),
        Log(
            at(481.0),
            "log",
            "CreditsService",
            "Credits granted to user usr_ok: +100 (balance=140)",
            extra={"userId": "usr_ok"},
        ),
        Log(
            at(482.5),
            "log",
            "StripeWebhookController",
            "Payment accepted: checkout.session.completed cs_live_b2 for user usr_lost (credits=250)",
            extra={"userId": "usr_lost", "event_type": "checkout.session.completed"},
        ),
    ]
    boot(at(900.0))
    logs.sort(key=lambda log: log.at)
    return logs


# --- renderers ---------------------------------------------------------------------------------------------------
GREEN, RED, YELLOW, RESET, MAGENTA, CYAN = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[39m", "\x1b[95m", "\x1b[96m"
COLOUR = {"log": GREEN, "error": RED, "warn": YELLOW, "debug": MAGENTA, "verbose": CYAN, "fatal": "\x1b[1m"}


def docker_time(at: datetime, seq: int) -> str:
    # Docker's RFC 3339 with nanoseconds; seq spreads lines logged within the same ms
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}{seq % 1000:03d}Z"


def access_text(access: dict[str, object]) -> str:
    return (
        f"{access['method']} {access['url']} {access['status']} {access['ms']}ms - {access['bytes']}b"
        f' - 10.42.1.{7 + len(str(access["url"])) % 5} "Mozilla/5.0 (ClipForge Web)"'
    )


def nest_text_lines(log: Log, previous: datetime | None) -> Iterator[str]:
    if log.level == "plain":
        yield from log.message.split("\n")
        return
    colour = COLOUR[log.level]
    stamp = log.at.strftime("%m/%d/%Y, ") + f"{(log.at.hour % 12) or 12}:{log.at:%M:%S}\u202f{log.at:%p}"
    delta = f" {YELLOW}+{int((log.at - previous).total_seconds() * 1000) if previous else 0}ms{RESET}"
    message = access_text(log.access) if log.access else log.message
    yield (
        f"{colour}[Nest] {PID}  - {RESET}{stamp} {colour}{log.level.upper():>7}{RESET} "
        f"{YELLOW}[{log.context}] {RESET}{colour}{message}{RESET}{delta}"
    )
    if log.stack:
        yield from log.stack.split("\n")


def nest_json_record(log: Log) -> dict[str, object]:
    record: dict[str, object] = {
        "level": log.level,
        "pid": PID,
        "timestamp": int(log.at.timestamp() * 1000),
        "message": access_text(log.access) if log.access else log.message,
        "context": log.context,
    }
    if log.stack:
        record["stack"] = log.stack
    return record


def pino_record(log: Log) -> dict[str, object]:
    level = {"log": 30, "error": 50, "warn": 40, "debug": 20, "verbose": 10, "fatal": 60}[log.level]
    record: dict[str, object] = {
        "level": level,
        "time": int(log.at.timestamp() * 1000),
        "pid": PID,
        "hostname": "clipforge-api-7c9d",
        "context": log.context,
    }
    if log.access:
        access = log.access
        record.update(
            req={
                "id": zlib.crc32(str(access["url"]).encode()) % 100000,
                "method": access["method"],
                "url": access["url"],
                "headers": {
                    "host": "api.clipforge.app",
                    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlX2hlcmU",
                },
            },
            res={"statusCode": access["status"]},
            responseTime=access["ms"],
            msg="request completed" if int(str(access["status"])) < 500 else "request errored",
        )
        del record["context"]
        return record
    record["msg"] = log.message
    if log.stack:
        record["err"] = {
            "type": log.stack.split(":", 1)[0],
            "message": log.stack.split("\n", 1)[0].split(": ", 1)[-1],
            "stack": log.stack,
        }
    record.update(log.extra)
    return record


def write_text(path: Path, logs: list[Log]) -> None:
    previous = None
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for seq, log in enumerate(logs):
            for line in nest_text_lines(log, previous):
                out.write(f"{docker_time(log.at, seq)} {line}\n")
            previous = log.at


def write_json_file(path: Path, logs: list[Log]) -> None:
    chunk = 16 * 1024
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for seq, log in enumerate(logs):
            stamp = docker_time(log.at, seq)
            if log.level == "plain":
                for line in log.message.split("\n"):
                    out.write(json.dumps({"log": line + "\n", "stream": "stderr", "time": stamp}) + "\n")
                continue
            stream = "stderr" if log.level == "error" else "stdout"
            line = json.dumps(nest_json_record(log), separators=(",", ":"))
            if log.context == "NestApplication" and log.at == START + timedelta(seconds=0.1):
                # one very long line: a 40 KiB config dump, which Docker splits into 16 KiB partial chunks
                record = nest_json_record(log) | {"config": {"features": ["f" * 60] * 600}}
                line = json.dumps(record, separators=(",", ":"))
            pieces = [line[i : i + chunk] for i in range(0, len(line), chunk)]
            for index, piece in enumerate(pieces):
                end = "\n" if index == len(pieces) - 1 else ""
                out.write(json.dumps({"log": piece + end, "stream": stream, "time": stamp}) + "\n")


def write_pino(path: Path, logs: list[Log]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for seq, log in enumerate(logs):
            if log.level == "plain":
                for line in log.message.split("\n"):
                    out.write(f"{docker_time(log.at, seq)} {line}\n")
                continue
            out.write(f"{docker_time(log.at, seq)} {json.dumps(pino_record(log), separators=(',', ':'))}\n")


def main() -> None:
    logs = timeline()
    write_text(HERE / "clipforge-api-text.log", logs)
    write_json_file(HERE / "clipforge-api-json.log", logs)
    write_pino(HERE / "clipforge-api-pino.log", logs)


if __name__ == "__main__":
    main()
