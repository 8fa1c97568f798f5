"""A long fuzz run of every target in tests/fuzz/targets.py: random inputs built from the same pieces the short
Hypothesis runs use, mutated (bytes flipped, inserted, cut), a fixed number of cases per target. Prints the
cases run and the failures per target (a failure's input is written to bench/out/fuzz-<target>-<n>.bin).

    .venv/bin/python bench/fuzz.py                  # about 1.1 million cases
    .venv/bin/python bench/fuzz.py --scale 0.01     # a quick look
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz import exits, targets  # noqa: E402
from tests.fuzz.test_fuzz import HOSTILE_PIECES, LOG_PIECES, TEMPLATE_PIECES, YAML_PIECES  # noqa: E402

OUT = ROOT / "bench" / "out"


def mutate(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randrange(4)):
        choice = rng.randrange(4)
        position = rng.randrange(len(buffer) + 1)
        if choice == 0 and buffer:
            buffer[min(position, len(buffer) - 1)] = rng.randrange(256)
        elif choice == 1:
            buffer[position:position] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif choice == 2:
            del buffer[position : position + rng.randrange(1, 16)]
        else:
            buffer[position:position] = buffer[: rng.randrange(1, 64)]
    return bytes(buffer)


def joined(rng: random.Random, pieces: list[Any], most: int) -> Any:
    return pieces[0][:0].join(rng.choice(pieces) for _ in range(rng.randrange(most + 1)))


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def log_case(rng: random.Random) -> tuple[Any, ...]:
    data = joined(rng, LOG_PIECES, 30) if rng.random() < 0.7 else rng.randbytes(rng.randrange(600))
    return (mutate(rng, data),)


def exits_case(rng: random.Random) -> tuple[Any, ...]:
    return (mutate(rng, joined(rng, LOG_PIECES + HOSTILE_PIECES, 30)),)


def frames_case(rng: random.Random) -> tuple[Any, ...]:
    payloads = [(rng.choice([1, 2, 3]), rng.randbytes(rng.randrange(100))) for _ in range(rng.randrange(20))]
    return payloads, [rng.randrange(10_000) for _ in range(rng.randrange(10))]


def chunked_case(rng: random.Random) -> tuple[Any, ...]:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (rng.randbytes(rng.randrange(50)) for _ in range(5)))
    return (mutate(rng, body + b"0\r\n\r\n"),)


def redact_case(rng: random.Random) -> tuple[Any, ...]:
    seeds = [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "card 4242 4242 4242 4242 exp 12/30",
        "postgres://user:secret@db:5432/app",
        "password=hunter2 user=bob@example.com sk_live_abcdefghijklmnop whsec_abc rzp_live_xyz",
        "order 1764234070100 took 23ms",
    ]
    return (text_of(mutate(rng, " ".join(rng.choice(seeds) for _ in range(rng.randrange(1, 5))).encode())),)


def rules_case(rng: random.Random) -> tuple[Any, ...]:
    if rng.random() < 0.3:
        shipped = sorted(p for p in (ROOT / "rules").glob("*.yml") if not p.name.endswith(".test.yml"))
        return (text_of(mutate(rng, rng.choice(shipped).read_bytes())),)
    return (text_of(mutate(rng, joined(rng, YAML_PIECES, 25).encode())),)


def config_case(rng: random.Random) -> tuple[Any, ...]:
    return (text_of(mutate(rng, joined(rng, YAML_PIECES, 15).encode())),)


def template_case(rng: random.Random) -> tuple[Any, ...]:
    if rng.random() < 0.3:
        shipped = sorted((ROOT / "logpipe" / "templates").glob("*.j2"))
        return (text_of(mutate(rng, rng.choice(shipped).read_bytes())),)
    return (text_of(mutate(rng, joined(rng, TEMPLATE_PIECES, 20).encode())),)


#: target -> (function, case generator, cases at --scale 1)
PLAN: dict[str, tuple[Callable[..., Any], Callable[[random.Random], tuple[Any, ...]], int]] = {
    "parsers+assembler": (targets.saved_log_lines_accounted, log_case, 400_000),
    "events to every exit": (exits.events_reach_every_exit, exits_case, 100_000),
    "docker frames": (targets.docker_frames_roundtrip, frames_case, 250_000),
    "chunked decoder": (targets.chunked_body_decodes_or_refuses, chunked_case, 200_000),
    "redactor": (targets.redactor_total, redact_case, 200_000),
    "templates": (targets.template_renders_or_refuses, template_case, 100_000),
    "rule loader": (targets.rule_file_loads_or_refuses, rules_case, 10_000),
    "config loader": (targets.config_loads_or_refuses, config_case, 20_000),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", help="run one target")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; seed {args.seed}")
    total = failures_total = 0
    for name, (target, case, count) in PLAN.items():
        if args.only and args.only != name:
            continue
        rng = random.Random(f"{args.seed}:{name}")
        cases = max(1, int(count * args.scale))
        failures = 0
        reached: Counter[str] = Counter()  # what a target says it reached (the exits an event went through)
        started = time.perf_counter()
        for number in range(cases):
            arguments = case(rng)
            try:
                answer = target(*arguments)
                if isinstance(answer, Counter):
                    reached.update(answer)
            except Exception:  # a failed property or an exception the target does not allow: keep the input
                failures += 1
                if failures <= 3:
                    OUT.mkdir(parents=True, exist_ok=True)
                    path = OUT / f"fuzz-{name.replace(' ', '-')}-{number}.txt"
                    path.write_text(f"{arguments!r}\n\n{traceback.format_exc()}")
                    print(f"  {name}: failure kept in {path}", flush=True)
        elapsed = time.perf_counter() - started
        total, failures_total = total + cases, failures_total + failures
        print(f"{name:20} {cases:>9,} cases  {failures:>4} failures  {elapsed:7.1f} s", flush=True)
        for exit_name in exits.EXITS if reached else ():
            print(f"    {exit_name:16} reached {reached[exit_name]:>10,} times", flush=True)
    print(f"{'total':20} {total:>9,} cases  {failures_total:>4} failures")
    if failures_total:
        sys.exit(1)


if __name__ == "__main__":
    main()
