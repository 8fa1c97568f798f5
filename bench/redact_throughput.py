"""Redaction cost per KB of log text, for random, base64 and adversarial inputs from 1 KiB to 1 MiB, next to the
same event printed without redaction (`--no-redact`). Linear time shows as a flat µs/KB column.

    python bench/redact_throughput.py [--max-kib 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import functools
import os
import platform
import random
import string
import time
from collections.abc import Callable

from logpipe.event import Event, Origin
from logpipe.redact import Redactor

# shapes that made the old single-regex redactor quadratic, and one per catalogue trigger
ADVERSARIAL: dict[str, bytes] = {
    "a.a.a.": b"a.a.a.",
    "password=": b"password=",
    "password ": b"password ",
    "a@a.": b"a@a.",
    "digits": b"4242 4242 ",
    "ghp_": b"ghp_",
    "bearer": b"Bearer ",
    "url://": b"x://a:b@",
    "aws": b"aws_",
    "eyJ.": b"eyJabcd.",
    "-----BEGIN": b"-----BEGIN PRIVATE KEY-----",
    "quoted": b'"token":"\\',
}


def random_text(size: int, rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    return "".join(rng.choice(alphabet) for _ in range(size))


def base64_text(size: int, rng: random.Random) -> str:
    # a realistic case from the issue: a long base64url blob inside a JSON message
    blob = base64.urlsafe_b64encode(rng.randbytes(size)).decode()[:size]
    return f'upload failed payload="{blob}"'


def adversarial_text(unit: bytes, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size].decode()


def per_kib(action: Callable[[], object], size: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1e6 / (size / 1024)


def event_of(text: str) -> Event:
    return Event(0, "error", text, "App", {}, Origin("file", "bench"), text, "plain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-kib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(10)
    redactor = Redactor()
    redactor.text("warm up")
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}")
    print("# µs per KiB: the event printed as JSON redacted (event_json) and unredacted (--no-redact)")
    print(f"{'input':<14} {'size':>9} {'redacted':>10} {'no-redact':>10}  largest line, seconds")
    sizes = [s for s in (1, 16, 128, 1024) if s <= args.max_kib]
    inputs: list[tuple[str, Callable[[int], str]]] = [
        ("random", lambda n: random_text(n, rng)),
        ("base64", lambda n: base64_text(n, rng)),
        *((f"adv {name}", lambda n, unit=unit: adversarial_text(unit, n)) for name, unit in ADVERSARIAL.items()),
    ]
    for name, make in inputs:
        for kib in sizes:
            size = kib * 1024
            event = event_of(make(size))
            redacted = per_kib(functools.partial(redactor.event_json, event), size, args.repeat)
            plain = per_kib(event.to_json, size, args.repeat)
            line = f"{name:<14} {kib:>6} KiB {redacted:>10.1f} {plain:>10.2f}"
            if kib == sizes[-1]:
                line += f"  {redacted * kib / 1e6:.3f} s"
            print(line, flush=True)


if __name__ == "__main__":
    main()
