"""The differential test (issue 14): every corpus the project has (tests/differential/corpora.py) through two
paths, which must print the same alerts, incidents, metrics and events, line for line.

- reference: pure Python from the .py files (tests/source_only.py);
- fast: logpipe as `make install` builds it (the hot path compiled by mypyc, and the hand-written C json-file
  decoder, logpipe/sources/docker/_jsonfile.c, which the json-file corpora go through). A batch fast lane, when one is
  built, belongs to this path and must keep this test green.

Each path is a real `logpipe replay --format jsonl --events-out FILE CORPUS` and `logpipe metrics CORPUS` process.
On a pure install (LOGPIPE_PURE_PYTHON=1) both run the same source; whether the fast path really runs compiled
code is its own test, which CI (where `make test` compiles) requires.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.differential import corpora
from tests.importgraph import compiled_by_setup

ROOT = corpora.ROOT
IN_CI = os.environ.get("CI") == "true"
TIMEOUT = 300  # seconds a command may take; a 10,000-line corpus takes one or two


@dataclass(frozen=True)
class CodePath:
    name: str
    python: list[str]  # how this path starts the `logpipe` command
    environment: dict[str, str]
    prelude: str  # what this path runs before it imports logpipe


def _environment() -> dict[str, str]:
    """This process's environment without what would make either path read a user's configuration."""
    return {k: v for k, v in os.environ.items() if k not in ("LOGPIPE_CONFIG", "LOGPIPE_LOG_LEVEL")}


REFERENCE = CodePath(
    "reference (pure Python from source)",
    [sys.executable, "-m", "tests.source_only"],
    _environment(),
    "from tests.source_only import install; install()",
)
FAST = CodePath("fast (as installed: compiled)", [sys.executable, "-m", "logpipe"], _environment(), "")


@dataclass(frozen=True)
class Outputs:
    """What a user sees of one corpus, each as its lines."""

    alerts: list[str]  # replay's stdout: the notifications as JSON lines
    incidents: list[str]  # replay's stderr: the incident table and the summary
    events: list[str]  # replay's --events-out: every parsed event
    metrics: list[str]  # `logpipe metrics`: the Prometheus exposition, then its summary


def _run(path: CodePath, arguments: list[str]) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [*path.python, *arguments], cwd=ROOT, env=path.environment, capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, (
        f"{path.name}: logpipe {' '.join(arguments)} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
    )
    return done


def outputs(path: CodePath, corpus: Path, workdir: Path) -> Outputs:
    events = workdir / f"events-{'reference' if path is REFERENCE else 'fast'}.jsonl"
    replay = _run(path, ["replay", "--format", "jsonl", "--events-out", str(events), str(corpus)])
    metrics = _run(path, ["metrics", str(corpus)])
    return Outputs(
        alerts=replay.stdout.decode().splitlines(),
        incidents=replay.stderr.decode().splitlines(),
        events=events.read_text().splitlines(),
        metrics=(metrics.stdout + metrics.stderr).decode().splitlines(),
    )


_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z?")
_DURATION = re.compile(r'"duration_seconds":[-+.\deE]+')


def without_arrival_times(lines: list[str], since: datetime) -> list[str]:
    """Times from `since` on (the wall clock's: no corpus is dated so late) and the durations measured between
    them, masked: what a line without a time of its own gets differs between any two runs."""

    def mask(stamp: re.Match[str]) -> str:
        when = datetime.fromisoformat(f"{stamp[1]}T{stamp[2]}+00:00")
        return "<arrival>" if when >= since else stamp[0]

    return [_DURATION.sub('"duration_seconds":"<arrival>"', _STAMP.sub(mask, line)) for line in lines]


def first_difference(reference: list[str], fast: list[str]) -> tuple[int, str, str] | None:
    """(1-based line number, reference's line, fast's line) where they first differ; a missing line is shown as
    <no line: N lines in all>."""
    for number in range(1, max(len(reference), len(fast)) + 1):
        left = reference[number - 1] if number <= len(reference) else f"<no line: {len(reference)} lines in all>"
        right = fast[number - 1] if number <= len(fast) else f"<no line: {len(fast)} lines in all>"
        if left != right:
            return number, left, right
    return None


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return corpora.build(tmp_path_factory.mktemp("corpora"))


@pytest.mark.parametrize("name", corpora.NAMES)
def test_the_fast_path_prints_what_the_reference_prints(
    name: str, corpus_files: dict[str, Path], tmp_path: Path
) -> None:
    corpus = corpus_files[name]
    started = datetime.now(UTC).replace(microsecond=0)
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: the two paths side by side
        reference_run = pool.submit(outputs, REFERENCE, corpus, tmp_path)
        fast_run = pool.submit(outputs, FAST, corpus, tmp_path)
        reference, fast = reference_run.result(), fast_run.result()
    if name in corpora.ARRIVAL_TIMED:
        reference, fast = (
            Outputs(*(without_arrival_times(getattr(run, f.name), started) for f in fields(Outputs)))
            for run in (reference, fast)
        )
    differences = []
    for field in fields(Outputs):
        found = first_difference(getattr(reference, field.name), getattr(fast, field.name))
        if found is not None:
            number, left, right = found
            column = next((i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b), len(left))
            start = max(0, column - 200)
            differences.append(
                f"{name} ({corpus}), {field.name}, line {number}, from character {column + 1}:\n"
                f"  reference: {_excerpt(left, start)}\n  fast:      {_excerpt(right, start)}"
            )
    assert not differences, "\n".join(differences)
    assert reference.events, f"{name}: no events at all; the corpus did not reach the parsers"


def _excerpt(line: str, start: int) -> str:
    return ("..." if start else "") + line[start : start + 600] + ("..." if len(line) > start + 600 else "")


def _compiled_modules() -> list[Path]:
    return sorted((ROOT / "logpipe").rglob("*.so"))


def test_setup_compiles_the_hot_path_by_package() -> None:
    """The per-line modules are among what setup.py compiles (a package's new module is compiled unless kept)."""
    compiled = set(compiled_by_setup())
    hot = {"logpipe.engine.engine", "logpipe.engine.kinds.ratio", "logpipe.parsers.json", "logpipe.agent.follower"}
    assert hot <= compiled
    assert "logpipe.engine.schema" not in compiled  # pydantic models: not compilable


def _module_files(path: CodePath) -> Iterator[tuple[str, str]]:
    """(module, file) of every module setup.py compiles, as this path imports them."""
    modules = compiled_by_setup()
    code = f"{path.prelude}\nimport importlib\n" + "".join(
        f"print({module!r}, importlib.import_module({module!r}).__file__)\n" for module in modules
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=path.environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        module, file = line.split(" ", 1)
        yield module, file


def test_the_fast_path_runs_compiled_code_and_the_reference_its_source() -> None:
    """Without this, a build that silently compiled nothing would pass the comparison above with two pure paths."""
    if not _compiled_modules():
        message = "no compiled module in logpipe/ (a pure install: LOGPIPE_PURE_PYTHON=1); `make install` compiles"
        if IN_CI:
            pytest.fail(f"CI's `make test` runs on a compiled install, but: {message}")
        pytest.skip(message)
    fast = dict(_module_files(FAST))
    reference = dict(_module_files(REFERENCE))
    assert [module for module, file in fast.items() if not file.endswith(".so")] == []
    assert [module for module, file in reference.items() if not file.endswith(".py")] == []
