"""The bundled examples: each format, parsed, gives back exactly the log calls the timeline scripted."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from logpipe.event import Event, Origin
from logpipe.pipeline import parse_lines
from logpipe.sources.file import read_lines
from tests.conftest import EXAMPLES

FILES = ["clipforge-api-text.log", "clipforge-api-json.log", "clipforge-api-pino.log"]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def events_of(path: Path) -> list[Event]:
    with path.open("rb") as stream:
        return list(parse_lines(read_lines(stream, Origin("file", path.name))))


@pytest.mark.parametrize("name", FILES)
def test_example_parses_into_exactly_the_scripted_log_calls(name: str) -> None:
    scripted = load_generator().timeline()
    events = events_of(EXAMPLES / name)
    assert len(events) == len(scripted)
    assert all(e.parser != "unparsed" for e in events)
    expected_errors = Counter(log.context or "ioredis" for log in scripted if log.level in ("error", "plain"))
    assert Counter(e.logger for e in events if e.level == "error") == expected_errors
    expected_stacks = sum(1 for log in scripted if log.stack or log.level == "plain")
    assert sum(1 for e in events if e.stack) == expected_stacks
    for stream in {e.origin.stream for e in events}:  # in order per stream (across streams, as they close)
        times = [e.time for e in events if e.origin.stream == stream]
        assert times == sorted(times)


def test_examples_are_what_the_generator_writes(tmp_path: Path) -> None:
    generator = load_generator()
    generator.HERE = tmp_path
    generator.main()
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
