"""A scripted 35-minute ClipForge outage (NestJS JSON log): what on-call would receive from `logpipe replay` with
the default pack, counted. Used to compare versions: pages (firing), all notifications, and how many of the
payment and credit failures the notifications account for.

    python bench/outage_notifications.py                      # this checkout's logpipe
    python bench/outage_notifications.py --logpipe OTHER/bin/logpipe
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
USERS = [f"usr_{i:04x}" for i in range(40)]


def record(at: datetime, level: str, message: str, context: str, stack: str | None = None) -> str:
    body: dict[str, object] = {"level": level, "pid": 1, "timestamp": int(at.timestamp() * 1000)}
    body |= {"message": message, "context": context}
    if stack:
        body["stack"] = stack
    return json.dumps(body)


def access(at: datetime, status: int, ms: int, path: str = "/api/v1/clips") -> str:
    return record(at, "log", f'GET {path} {status} {ms}ms - 512b - 10.42.1.7 "Mozilla/5.0"', "HTTP")


def outage() -> tuple[list[tuple[datetime, str]], collections.Counter[str]]:
    """The log lines, and how many failures of each kind it holds (what on-call should hear about)."""
    rng = random.Random(7)
    lines: list[tuple[datetime, str]] = []
    failures: collections.Counter[str] = collections.Counter()
    db_down = (START + timedelta(minutes=12), START + timedelta(minutes=16))
    redis_down = (START + timedelta(minutes=20), START + timedelta(minutes=22))
    spike = (START + timedelta(minutes=25), START + timedelta(minutes=27))
    flappy = (START + timedelta(minutes=28), START + timedelta(minutes=33))
    pg_stack = "Error: connect ECONNREFUSED 172.18.0.3:5432\n    at TCPConnectWrap.afterConnect (node:net:1611:16)"
    for tick in range(35 * 60 * 2):  # two requests a second
        at = START + timedelta(seconds=tick / 2)
        if db_down[0] <= at < db_down[1]:
            status = 500 if rng.random() < 0.6 else 200
        elif spike[0] <= at < spike[1]:
            status = 500 if rng.random() < 0.4 else 200
        elif flappy[0] <= at < flappy[1]:  # around the 10 % line, minute by minute
            status = 500 if rng.random() < (0.14 if (at.minute % 2) else 0.07) else 200
        else:
            status = 404 if rng.random() < 0.05 else 200
        lines.append((at, access(at, status, rng.randint(15, 120))))
        if status == 500 and spike[0] <= at < spike[1]:
            lines.append(
                (
                    at,
                    record(
                        at,
                        "error",
                        "Cannot read properties of undefined (reading 'renditions')",
                        "ExceptionsHandler",
                        "TypeError: Cannot read properties of undefined",
                    ),
                )
            )
    for second, user in zip(
        (300, 310, 320, 335, 350), ("usr_0001", "usr_0002", "usr_0001", "usr_0003", "usr_0002"), strict=True
    ):
        at = START + timedelta(seconds=second)
        lines.append(
            (
                at,
                record(
                    at,
                    "error",
                    f"Webhook error: No signatures found matching the expected signature for user {user}",
                    "StripeWebhookController",
                ),
            )
        )
        failures["stripe signature"] += 1
    for n in range(7):
        at = START + timedelta(minutes=8, seconds=n * 7)
        lines.append(
            (
                at,
                record(
                    at,
                    "error",
                    f"Credit deduction failed for user {rng.choice(USERS)}: deadlock detected",
                    "CreditsService",
                ),
            )
        )
        failures["credit deduction"] += 1
    at = db_down[0]
    retry = 0
    while at < db_down[1]:
        retry += 1
        lines.append(
            (
                at,
                record(
                    at, "error", f"Unable to connect to the database. Retrying ({retry})...", "TypeOrmModule", pg_stack
                ),
            )
        )
        if retry % 4 == 0:
            lines.append(
                (at, record(at, "error", "connect ECONNREFUSED 172.18.0.3:5432", "ExceptionsHandler", pg_stack))
            )
        if retry % 10 == 0:
            lines.append(
                (
                    at,
                    record(
                        at,
                        "error",
                        f"Credit deduction failed for user {rng.choice(USERS)}: Connection terminated unexpectedly",
                        "CreditsService",
                    ),
                )
            )
            failures["credit deduction"] += 1
        at += timedelta(seconds=3)
    at = redis_down[0]
    while at < redis_down[1]:
        lines.append(
            (
                at,
                record(
                    at,
                    "error",
                    "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 172.18.0.4:6379",
                    "RedisService",
                ),
            )
        )
        lines.append((at, record(at, "error", "Failed to enqueue render job: Connection is closed.", "RenderQueue")))
        at += timedelta(seconds=5)
    lines.sort(key=lambda item: item[0])
    return lines, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logpipe", default=str(Path(sys.executable).with_name("logpipe")))
    args = parser.parse_args()
    lines, failures = outage()
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "outage.log"
        log.write_text("".join(text + "\n" for _, text in lines))
        result = subprocess.run(
            [args.logpipe, "replay", "--format", "jsonl", str(log)], capture_output=True, text=True, check=True
        )
    sent = [json.loads(line) for line in result.stdout.splitlines()]
    statuses = collections.Counter(n["status"] for n in sent)
    pages = [n for n in sent if n["status"] == "firing"]
    print(f"log: {len(lines)} lines over 35 minutes; failures in it: {dict(failures)}")
    print(f"notifications: {len(sent)} {dict(statuses)}")
    print(f"pages (firing): {len(pages)}: " + ", ".join(sorted(collections.Counter(n["rule"] for n in pages))))
    for rule, kind in (
        ("stripe-webhook-signature", "stripe signature"),
        ("credit-deduction-failed", "credit deduction"),
    ):
        print(f"{rule}: {accounted(sent, rule)} of the {failures[kind]} failures reported")


def accounted(sent: list[dict[str, object]], rule: str) -> int:
    """Matches of `rule` the notifications tell about: their counts (before incidents: each alert's match and the
    `suppressed` it carried), and what causes listed of it as a folded symptom."""
    own = 0
    for n in sent:
        if n["rule"] == rule:
            own += int(n["count"]) if "total" in n else 1 + int(n.get("suppressed", 0))  # type: ignore[call-overload]
    folded: dict[object, int] = {}
    for n in sent:
        for symptom in n.get("symptoms", []):  # type: ignore[attr-defined]
            if symptom["rule"] == rule:
                folded[n["incident"]] = max(folded.get(n["incident"], 0), int(symptom["count"]))
    return own + sum(folded.values())


if __name__ == "__main__":
    main()
