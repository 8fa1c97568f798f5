"""Rule-engine throughput: a generated NestJS JSON log through parse + extract + match + windows (no sink).

    python bench/rules_throughput.py                 # 1,000,000 lines; 10, 21 (the pack), 50 and 200 rules
    python bench/rules_throughput.py --lines 200000

Rule sets: the first 10 rules of the shipped pack, the whole pack, and the pack plus generated rules of the same
shapes (text regexes that rarely match, a field condition or two) up to 50 and 200. Each run is a fresh process,
best of --repeat. For scale, the same corpus through `grep -E -c -f` with the pack's patterns (translated to ERE).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from parse_throughput import corpus  # noqa: E402

WORDS = [
    "ledger",
    "thumbnail",
    "transcode",
    "quota",
    "invoice",
    "webhook",
    "session",
    "bucket",
    "minio",
    "upload",
    "coupon",
    "refund",
    "payout",
    "render",
    "cdn",
    "oauth",
    "captcha",
    "export",
    "import",
    "billing",
]


def synthetic_rules(count: int, seed: int = 3) -> str:
    """`count` every-match rules shaped like the pack's: a text regex on a phrase, sometimes a level or logger."""
    rng = random.Random(seed)
    out = ["rules:"]
    for index in range(count):
        a, b = rng.sample(WORDS, 2)
        pattern = f"{a} {b} (?:failed|timed out|rejected) \\\\(code (?P<code>\\\\d+)\\\\)"
        condition = f'{{text: {{regex: "{pattern}", ignore_case: true}}'
        if index % 3 == 0:
            condition += ", level: {gte: warning}"
        if index % 5 == 0:
            condition += f", logger: {{in: [{a.title()}Service, {b.title()}Service]}}"
        condition += "}"
        example = f"{a} {b} failed (code 7)"
        level = "warn" if index % 3 == 0 else "log"
        context = f"{a.title()}Service"
        out.append(f"""  - id: synthetic-{index:03d}
    title: synthetic {index}
    runbook: none
    match: {condition}
    examples:
      match: ['{{"level":"{level}","message":"{example}","context":"{context}"}}']""")
    return "\n".join(out) + "\n"


def rule_dirs(workdir: Path, pack: Path) -> dict[str, Path]:
    from logpipe.engine import load_rules

    pack_size = len(load_rules([pack]).rules)
    dirs: dict[str, Path] = {}
    ten = workdir / "10"
    ten.mkdir()
    (ten / "subset.yml").write_text(_first_rules(pack, 10))
    dirs["10"] = ten
    dirs[f"{pack_size} (pack)"] = pack
    for total in (50, 200):
        target = workdir / str(total)
        shutil.copytree(pack, target, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        (target / "synthetic.yml").write_text(synthetic_rules(total - pack_size))
        dirs[str(total)] = target
    return dirs


def _first_rules(pack: Path, count: int) -> str:
    """A rule file with the extractors and the first `count` rules of the pack (YAML re-dumped)."""
    import yaml

    extract, rules = [], []
    for path in sorted(pack.glob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        extract += document.get("extract", [])
        rules += document.get("rules", [])
    chosen = rules[:count]
    kept = {rule["id"] for rule in chosen}
    for rule in chosen:  # a cause may name a symptom outside the subset: the loader refuses unknown rules
        if "inhibits" in rule:
            rule["inhibits"] = [i for i in rule["inhibits"] if i["rule"] in kept]
            if not rule["inhibits"]:
                del rule["inhibits"]
    return yaml.safe_dump({"extract": extract, "rules": chosen}, sort_keys=False)


def measure(log: Path, rules: Path) -> dict[str, float]:
    from logpipe.engine import Engine, load_rules
    from logpipe.event import Origin
    from logpipe.pipeline import parse_lines, read_ahead, run_rules, settle_heap
    from logpipe.sources.file import read_lines

    engine = Engine(load_rules([rules]))
    settle_heap()  # as `logpipe replay` and `logpipe follow` do
    started = time.perf_counter()
    alerts = 0
    with log.open("rb") as stream:
        # as `logpipe replay` reads a saved log: a batch at a time (pipeline.read_ahead)
        for _ in run_rules(read_ahead(parse_lines(read_lines(stream, Origin("file", log.name))), engine), engine):
            alerts += 1
    elapsed = time.perf_counter() - started
    return {
        "events": engine.events,
        "alerts": alerts,
        "seconds": elapsed,
        "rules": len(engine.active),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def grep_patterns(pack: Path) -> list[str]:
    """The pack's text regexes as POSIX ERE (named groups and (?:) dropped, \\d \\s \\w spelled out)."""
    from logpipe.engine import load_rules
    from logpipe.engine.conditions import Pattern

    patterns = {p.regex for rule in load_rules([pack]).rules for p in _requirements(rule) if isinstance(p, Pattern)}
    translated = []
    for pattern in sorted(patterns):
        ere = re.sub(r"\(\?P<\w+>", "(", pattern).replace("(?:", "(")
        ere = ere.replace(r"\d", "[0-9]").replace(r"\s", "[[:space:]]").replace(r"\S", "[^[:space:]]")
        ere = ere.replace(r"\w", "[[:alnum:]_]").replace(r"\.", "[.]").replace(r"\[", "[[]").replace(r"\]", "[]]")
        translated.append(ere)
    return translated


def _requirements(rule: object) -> list:  # type: ignore[type-arg]
    from logpipe.engine.rules import requirement_of

    return list(requirement_of(rule) or ())  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return

    from logpipe.engine import default_rules_dir

    log = corpus("nest-json", args.lines)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"corpus: {log.name} ({args.lines:,} NestJS JSON lines: access logs, 1 % errors with stacks)")
    print(f"best of {args.repeat} runs, each in a fresh process (one core)")
    print(f"{'rules':<10} {'lines/s':>9} {'slowest':>9} {'alerts':>7} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for label, rules in rule_dirs(Path(scratch), default_rules_dir()).items():
            runs = []
            for _ in range(args.repeat):
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(log), str(rules)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(child.stdout))
            rates = sorted(run["events"] / run["seconds"] for run in runs)
            peak = max(run["peak_rss_mib"] for run in runs)
            print(f"{label:<10} {rates[-1]:>9,.0f} {rates[0]:>9,.0f} {int(runs[0]['alerts']):>7} {peak:>5.1f} MiB")
        patterns = Path(scratch) / "patterns.txt"
        ere = grep_patterns(default_rules_dir())
        patterns.write_text("\n".join(ere) + "\n")
        started = time.perf_counter()
        grep = subprocess.run(
            ["grep", "-E", "-i", "-c", "-f", str(patterns), str(log)], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        print(
            f"grep -E -i -c -f ({len(ere)} pack patterns): {args.lines / elapsed:,.0f} lines/s "
            f"({grep.stdout.strip()} matching lines, {elapsed:.2f} s)"
        )


if __name__ == "__main__":
    main()
