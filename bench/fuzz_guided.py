"""Coverage-guided fuzzing (atheris, libFuzzer for Python) of the targets in tests/fuzz/targets.py: the same
properties as the Hypothesis runs and bench/fuzz.py, but the inputs evolve towards code not reached yet.
Each target runs in its own process (libFuzzer exits when done), seeded with the pieces the other runs use and
the shipped rule files and templates; a failing input is kept as bench/out/guided-<target>/crash-*.

    .venv/bin/pip install atheris                          # or: pip install -e '.[fuzz]'
    .venv/bin/python bench/fuzz_guided.py                  # every target, 100,000 runs each
    .venv/bin/python bench/fuzz_guided.py --runs 2000000 --only redactor
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGETS = ["parsers", "exits", "frames", "chunked", "redactor", "templates", "rules", "config"]


def one_input(target: str) -> Any:
    """The libFuzzer callback for `target`: bytes -> the target's arguments -> the target."""
    import atheris

    with atheris.instrument_imports():  # everything the targets import from here: logpipe, jinja2, yaml, ...
        from tests.fuzz import exits, targets

    def text(data: bytes) -> str:
        return data.decode("utf-8", "replace")

    def frames(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        payloads = [
            (provider.PickValueInList([1, 2, 3]), provider.ConsumeBytes(provider.ConsumeIntInRange(0, 100)))
            for _ in range(provider.ConsumeIntInRange(0, 20))
        ]
        cuts = [provider.ConsumeIntInRange(0, 10_000) for _ in range(provider.ConsumeIntInRange(0, 10))]
        targets.docker_frames_roundtrip(payloads, cuts)

    return {
        "parsers": targets.saved_log_lines_accounted,
        "exits": exits.events_reach_every_exit,
        "frames": frames,
        "chunked": targets.chunked_body_decodes_or_refuses,
        "redactor": lambda data: targets.redactor_total(text(data)),
        "templates": lambda data: targets.template_renders_or_refuses(text(data)),
        "rules": lambda data: targets.rule_file_loads_or_refuses(text(data)),
        "config": lambda data: targets.config_loads_or_refuses(text(data)),
    }[target]


def seed_corpus(target: str, directory: Path) -> None:
    from tests.fuzz.test_fuzz import HOSTILE_PIECES, LOG_PIECES, TEMPLATE_PIECES, YAML_PIECES

    directory.mkdir(parents=True, exist_ok=True)
    seeds: list[bytes] = {
        "parsers": [b"".join(LOG_PIECES), *LOG_PIECES],
        "exits": [b"".join(LOG_PIECES), *LOG_PIECES, *HOSTILE_PIECES],
        "frames": [bytes(range(64))],
        "chunked": [b"5\r\nhello\r\n0\r\n\r\n", b"ff\r\n" + b"x" * 255 + b"\r\n0\r\n\r\n"],
        "redactor": [
            b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl card 4242 4242 4242 4242",
            b"postgres://user:secret@db:5432/app password=hunter2 bob@example.com sk_live_abcdefghijklmnop",
        ],
        "templates": [p.read_bytes() for p in (ROOT / "logpipe" / "templates").glob("*.j2")]
        + ["".join(TEMPLATE_PIECES).encode()],
        "rules": [p.read_bytes() for p in (ROOT / "rules").glob("*.yml") if not p.name.endswith(".test.yml")]
        + ["".join(YAML_PIECES).encode()],
        "config": ["".join(YAML_PIECES).encode(), (ROOT / "examples" / "logpipe.yml").read_bytes()]
        if (ROOT / "examples" / "logpipe.yml").exists()
        else ["".join(YAML_PIECES).encode()],
    }[target]
    for number, seed in enumerate(seeds):
        (directory / f"seed-{number}").write_bytes(seed)


def child(target: str, runs: int) -> None:
    """Run one target under libFuzzer (this process exits when it is done)."""
    import atheris

    sys.path.insert(0, str(ROOT))
    from tests.source_only import install

    install()  # compiled code cannot be instrumented: the fuzzer would be blind in the hot path
    callback = one_input(target)
    work = OUT / f"guided-{target}"
    corpus = work / "corpus"
    seed_corpus(target, corpus)
    atheris.Setup(
        [sys.argv[0], f"-runs={runs}", "-max_len=4096", "-rss_limit_mb=2048", "-timeout=20",
         f"-artifact_prefix={work}/", "-print_final_stats=1", str(corpus)],
        callback,
    )  # fmt: skip
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000, help="inputs per target")
    parser.add_argument("--only", choices=TARGETS)
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    failed = 0
    total = 0
    print(f"{'target':10} {'runs':>10} {'coverage':>9} {'features':>9} {'seconds':>8}  result")
    for target in [args.only] if args.only else TARGETS:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, __file__, "--child", target, "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        log = done.stderr
        runs = re.findall(r"stat::number_of_executed_units: (\d+)", log)
        coverage = re.findall(r"cov: (\d+)", log)
        features = re.findall(r"ft: (\d+)", log)
        executed = int(runs[-1]) if runs else 0
        total += executed
        result = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        if done.returncode != 0:
            failed += 1
            kept = OUT / f"guided-{target}" / "stderr.txt"
            kept.write_text(log)
            result += f", see {kept}"
        print(
            f"{target:10} {executed:>10,} {coverage[-1] if coverage else '-':>9} "
            f"{features[-1] if features else '-':>9} {elapsed:8.1f}  {result}",
            flush=True,
        )
    print(f"{'total':10} {total:>10,}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
