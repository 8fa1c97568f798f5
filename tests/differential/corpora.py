"""Every corpus the project has, as files `logpipe replay` reads: the examples, the real-world excerpts, the
benchmark generators' output (small) and inputs drawn from the property tests' strategies.

Each corpus is the same bytes on every run (fixed seeds), and every line carries its own time (in its text, a
`docker logs -t` prefix or a json-file record), but one: a line without one gets its arrival time from the wall
clock, which differs between two runs of the same code, so that corpus (ARRIVAL_TIMED) is compared with those
times masked.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.realworld import load_corpus

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from follow_path import write_json_file_log  # noqa: E402
from parse_throughput import FORMATS, corpus  # noqa: E402

T = TypeVar("T")

EXAMPLES = sorted(path.name for path in (ROOT / "examples").glob("*.log"))
GENERATED_LINES = 10_000
GENERATED = [*FORMATS, "nest-json-file"]
PROPERTY_EXAMPLES = 300
PROPERTY = ["parser-lines", "saved-logs", "saved-logs-plain"]
#: corpora with lines that carry no time: such a line's event time is its arrival, from the wall clock, different on
#: each run, so times from the test's start on are masked when these are compared
ARRIVAL_TIMED = {"property/saved-logs-plain"}
NAMES = [
    *(f"examples/{name}" for name in EXAMPLES),
    "realworld/all",
    *(f"generated/{name}" for name in GENERATED),
    *(f"property/{name}" for name in PROPERTY),
]

BASE_NS = 1_795_770_000_000_000_000  # 2026-11-27T09:00:00Z, as the examples and the generators


def stamp(ns: int) -> str:
    """RFC 3339 with nanoseconds, as dockerd writes it."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def build(directory: Path) -> dict[str, Path]:
    """Every corpus of NAMES, written into `directory` (the examples are used where they are)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {f"examples/{name}": ROOT / "examples" / name for name in EXAMPLES}
    paths["realworld/all"] = _realworld(directory / "realworld.log")
    for name in FORMATS:
        paths[f"generated/{name}"] = corpus(name, GENERATED_LINES, directory)
    json_file = directory / "nest-json-file.log"
    write_json_file_log(json_file, GENERATED_LINES)
    paths["generated/nest-json-file"] = json_file
    paths["property/parser-lines"] = _parser_lines(directory / "parser-lines.log")
    paths["property/saved-logs"] = _saved_logs(directory / "saved-logs.log")
    paths["property/saved-logs-plain"] = _saved_logs_plain(directory / "saved-logs-plain.log")
    assert sorted(paths) == sorted(NAMES)
    return paths


def _realworld(path: Path) -> Path:
    """Every excerpt of tests/data/realworld/ (all categories, in one file: a process start per corpus is most of
    the test's time), a second apart, each line as `docker logs -t` shows it."""
    lines = (
        (BASE_NS + number * 1_000_000_000 + offset * 1_000_000, line)
        for number, item in enumerate(load_corpus())
        for offset, line in enumerate(item.text.splitlines())
    )
    path.write_bytes(b"".join(f"{stamp(ns)} {line}\n".encode() for ns, line in lines))
    return path


def drawn(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` values of a property test's strategy, the same ones on every run (derandomize: a fixed seed).
    The strategies themselves, not copies, so the corpus follows the property tests as they change."""
    found: list[T] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found


def _parser_lines(path: Path) -> Path:
    """tests/unit/parsers/test_properties.py's inputs (lines of log pieces or raw bytes, on stdout or stderr,
    some of them partial chunks), and its any-unicode lines, as Docker's json-file log records: the one shape that
    carries the stream and the partial flag."""
    from tests.unit.parsers import test_properties

    chunks: list[tuple[bytes, bool, bool]] = [
        item for items in drawn(test_properties.lines, PROPERTY_EXAMPLES) for item in items
    ]
    texts = drawn(st.text(max_size=200), PROPERTY_EXAMPLES)
    chunks += [(text.encode("utf-8", "surrogatepass"), False, False) for text in texts]
    with path.open("w", encoding="utf-8") as out:
        for number, (data, on_stderr, partial) in enumerate(chunks):
            log = data.replace(b"\n", b" ").decode("utf-8", "replace") + ("" if partial else "\n")
            record = {"log": log, "stream": "stderr" if on_stderr else "stdout", "time": stamp(BASE_NS + number)}
            out.write(json.dumps(record) + "\n")
    return path


def _saved_logs(path: Path) -> Path:
    """tests/fuzz/test_fuzz.py's saved logs (raw bytes and log pieces) one after the other, each line behind a
    `docker logs -t` prefix (line ends as the file reader splits them: CR LF, LF or a lone CR)."""
    from tests.fuzz.test_fuzz import log_bytes

    lines = itertools.chain.from_iterable(_split_lines(data) for data in drawn(log_bytes, PROPERTY_EXAMPLES))
    path.write_bytes(b"".join(f"{stamp(BASE_NS + n * 1000)} ".encode() + line + b"\n" for n, line in enumerate(lines)))
    return path


def _saved_logs_plain(path: Path) -> Path:
    """The same saved logs as they are, one after the other: the file reader's own line splitting (a lone CR ends a
    line), invalid UTF-8, NUL bytes; most lines carry no time (see ARRIVAL_TIMED)."""
    from tests.fuzz.test_fuzz import log_bytes

    path.write_bytes(b"\n".join(drawn(log_bytes, PROPERTY_EXAMPLES)) + b"\n")
    return path


def _split_lines(data: bytes) -> Iterable[bytes]:
    return re.split(rb"\r\n|\r|\n", data)
