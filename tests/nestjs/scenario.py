"""The scenario the NestJS fixture app is driven through, and its known answer: the failures it caused, per
category of the pack, counted from what it did (each request it sent and each outage it made), never from
what logpipe made of the app's output.

What it does, in order: good traffic (health checks, clip reads through the cache, two paid checkouts with valid
Stripe signatures), webhooks with bad signatures (a wrong secret, a tampered body, a stale timestamp), credit
deductions with and without balance, two near-miss slow requests (4.2 s: under the 5 s p95 the pack alerts on),
the route that throws; Postgres stopped (deductions fail) and started; the app's container restarted (`docker
restart`); Redis stopped (renders fail to queue) and started; more bad signatures after the restart. Good
traffic runs between the failures, so the share of 5xx stays under the pack's 5 % error-rate threshold: the
failures page for themselves, not a second time as an error rate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psycopg

from tests.nestjs.nestapp import NestApp

WEBHOOK_SECRET = "whsec_FixtureOnly7Kq2Wm9Zx4Cv1Bn6Lp3Tg8Rf5Ds0"  # a test fixture's, not a real one
STRIPE_KEY = "sk_test_FixtureOnly4f9Qz7Lm2Xc8Vb1Nw6Rt3Yp5Hd0"
WEBHOOK = "/api/v1/payments/stripe/webhook"


class Server(Protocol):
    def start(self) -> object: ...
    def stop(self) -> None: ...


class Database(Server, Protocol):
    def url(self, password: str) -> str: ...


def wait_accepting_queries(database: Database, timeout: float = 60) -> None:
    """Postgres listens before it answers queries ("the database system is starting up"): until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(database.url("any"), connect_timeout=2) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class Expected:
    """The scenario's answer: failures per category (tests/realworld.py's), and the kinds of failure in each: each
    kind pages once (a credit refused for its balance and a credit deduction the database failed are two)."""

    failures: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, set[str]] = field(default_factory=dict)
    requests: Counter[int] = field(default_factory=Counter)  # responses by status, to check the 5xx share

    def failed(self, category: str, kind: str, count: int = 1) -> None:
        self.failures[category] += count
        self.kinds.setdefault(category, set()).add(kind)

    def pages(self) -> dict[str, int]:
        return {category: len(kinds) for category, kinds in self.kinds.items()}

    def to_json(self) -> str:
        return json.dumps({"failures": self.failures, "pages": self.pages(), "responses": self.requests})


def signature(payload: bytes, secret: str, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe signs: HMAC-SHA256 of `<t>.<payload>` with the endpoint's secret."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def checkout(event_id: str, user: str, credits: int) -> bytes:
    session = {"id": f"cs_test_{event_id}", "client_reference_id": user, "metadata": {"credits": str(credits)}}
    event = {"id": event_id, "object": "event", "type": "checkout.session.completed", "data": {"object": session}}
    return json.dumps(event).encode()


@dataclass
class Scenario:
    app: NestApp
    postgres: Database
    redis: Server
    users: str  # a prefix for this run's user ids: runs share the database
    expected: Expected = field(default_factory=Expected)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
        status = self.app.call(method, path, body, {"user-agent": "scenario/1.0", **(headers or {})})
        self.expected.requests[status] += 1
        return status

    def expect(self, status: int, method: str, path: str, body: bytes | None = None, **headers: str) -> None:
        got = self.call(method, path, body, {"content-type": "application/json", **headers})
        assert got == status, f"{method} {path}: {got}, expected {status}\n{self.app.output()[-3000:]}"

    def good_traffic(self, requests: int) -> None:
        for number in range(requests):
            if number % 3 == 0:
                self.expect(200, "GET", "/api/v1/health")
            else:
                self.expect(200, "GET", f"/api/v1/clips/clp_{number % 7}")

    def paid(self, user: str, credits: int) -> None:
        body = checkout(f"evt_{user}_{credits}", user, credits)
        self.expect(200, "POST", WEBHOOK, body, **{"stripe-signature": signature(body, WEBHOOK_SECRET)})

    def bad_signatures(self) -> None:
        body = checkout(f"evt_{self.users}_forged", f"{self.users}_mallory", 5000)
        for header in (
            signature(body, "whsec_not_the_endpoint_secret"),  # another endpoint's secret
            signature(body.replace(b"5000", b"9000"), WEBHOOK_SECRET),  # a body changed after signing
            signature(body, WEBHOOK_SECRET, at=int(time.time()) - 3600),  # replayed an hour later
        ):
            self.expect(400, "POST", WEBHOOK, body, **{"stripe-signature": header})
            self.expected.failed("payment-webhook", "webhook signature")
            self.good_traffic(10)

    def deduct(self, user: str, amount: int, status: int) -> None:
        body = json.dumps({"userId": user, "amount": amount}).encode()
        self.expect(status, "POST", "/api/v1/credits/deduct", body)

    def run(self) -> Expected:
        alice, bob = f"{self.users}_alice", f"{self.users}_bob"
        self.good_traffic(120)
        self.paid(alice, 100)
        self.paid(bob, 3)
        self.good_traffic(20)
        self.bad_signatures()
        for _ in range(3):
            self.deduct(alice, 5, 200)
        for _ in range(2):  # bob has 3 credits
            self.deduct(bob, 10, 402)
            self.expected.failed("credit", "insufficient balance")
            self.good_traffic(10)
        for _ in range(2):  # near misses: under the p95 threshold, and too few to move it
            self.expect(200, "GET", "/api/v1/reports/slow?ms=4200")
        for _ in range(3):
            self.expect(500, "POST", "/api/v1/clips/clp_404/publish")
            self.expected.failed("unhandled-exception", "TypeError in publish")
            self.good_traffic(15)

        self.postgres.stop()
        # each a credit deduction failed for its database; a credit failure, not a Postgres one: what the app
        # prints (TypeORM passes pg's connect error on) names an address, not Postgres (its port is not 5432 here)
        for _ in range(4):
            self.deduct(alice, 1, 503)
            self.expected.failed("credit", "deduction failed (database)")
            self.good_traffic(15)
        self.postgres.start()
        wait_accepting_queries(self.postgres)
        self.deduct(alice, 1, 200)

        self.app.restart()  # a deploy: a notice, not a page
        self.app.wait_healthy()
        self.good_traffic(40)

        self.redis.stop()
        self.app.wait_healthy(redis="down")  # the cache, the queue and the worker each lost it: a line each
        self.expected.failed("redis", "Redis outage", 3)
        for number in range(3):  # each a render that could not be queued
            self.expect(503, "POST", f"/api/v1/clips/clp_{number}/render")
            self.expected.failed("redis", "Redis outage")
            self.expect(200, "GET", "/api/v1/health")
        self.redis.start()
        self.app.wait_healthy()
        self.good_traffic(40)
        self.expect(202, "POST", "/api/v1/clips/clp_1/render")
        self.bad_signatures()
        self.good_traffic(60)
        return self.expected

    def write(self, path: Path) -> None:
        path.write_text(self.expected.to_json() + "\n")
