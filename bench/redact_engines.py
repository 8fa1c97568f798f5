"""hyperscan against google-re2 for the redactor's multi-pattern pass, on 1 MiB lines: hyperscan's scan of the
catalogue and the complete redaction, next to RE2 finding the matches of the same patterns as one alternation.

    python bench/redact_engines.py        # google-re2 is not a dependency: `pip install google-re2` to compare
"""

from __future__ import annotations

import base64
import importlib
import random
import re
import string
import time
from typing import Any

from logpipe.redact import RedactionConfig, Redactor
from logpipe.redact.redactor import compile_entries
from logpipe.redact.scanner import _collect

SIZE = 1024 * 1024


def inputs() -> dict[str, str]:
    rng = random.Random(10)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    return {
        "random": "".join(rng.choice(alphabet) for _ in range(SIZE)),
        "base64": base64.urlsafe_b64encode(rng.randbytes(SIZE)).decode()[:SIZE],
        "a.a.a.": ("a.a.a." * (SIZE // 6 + 1))[:SIZE],
        "password=": ("password=" * (SIZE // 9 + 1))[:SIZE],
        "digits": ("4242 4242 " * (SIZE // 10 + 1))[:SIZE],
        "a@a.": ("a@a." * (SIZE // 4 + 1))[:SIZE],
    }


def per_kib(seconds: float) -> str:
    return f"{seconds * 1e6 / (SIZE / 1024):8.1f} µs/KiB"


def main() -> None:
    redactor = Redactor()
    scanner = redactor.scanner
    database, scratch = scanner._database, scanner._scratch()
    assert database is not None
    re2: Any = None
    try:
        re2 = importlib.import_module("re2")
    except ImportError:
        print("# google-re2 not installed (pip install google-re2): hyperscan only")
    if re2 is not None:
        patterns = [
            f"(?i:{re.sub(r'[(][?]P<[a-z0-9]+>', '(', e.pattern)})" if e.ignore_case else e.pattern
            for e in compile_entries(RedactionConfig())
        ]
        combined = re2.compile("|".join(f"(?:{p})" for p in patterns))
    for name, text in inputs().items():
        data = text.encode()
        found: dict[int, int] = {}
        started = time.perf_counter()
        database.scan(data, match_event_handler=_collect, context=found, scratch=scratch)
        scan = time.perf_counter() - started
        started = time.perf_counter()
        redactor.text(text)
        full = time.perf_counter() - started
        line = f"{name:<10} hyperscan scan {per_kib(scan)}  redaction {per_kib(full)}"
        if re2 is not None:
            started = time.perf_counter()
            for _ in combined.finditer(text):
                pass
            line += f"  re2 finditer {per_kib(time.perf_counter() - started)}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
