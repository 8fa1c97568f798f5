"""Fuzz targets: each takes one generated input and asserts the properties that must hold for every input (no
exception but the documented one, bounded time, lines in = lines accounted). tests/fuzz/test_fuzz.py runs them
briefly with Hypothesis on every `make test`; bench/fuzz.py runs them for a million cases and more."""

from __future__ import annotations

import contextlib
import io
import itertools
import struct
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import jinja2

from logpipe.config.load import load_config
from logpipe.engine import RuleLoadError, load_rules
from logpipe.errors import ConfigError
from logpipe.event import LEVEL_RANK, Origin
from logpipe.parsers import Assembler, Limits
from logpipe.pipeline import parse_lines
from logpipe.redact import Redactor
from logpipe.render.renderer import Renderer, sample_payload
from logpipe.sources.docker.frames import END_OF_READ, ChunkedDecoder, frames
from logpipe.sources.file import read_lines

ORIGIN = Origin("file", "fuzz.log")
LIMITS = Limits(max_line_bytes=200, max_group_lines=3, max_group_bytes=120)
_REDACTOR = Redactor()
_RENDERER = Renderer()
_SAMPLE = sample_payload()


# the time bounds hold in bench/fuzz.py's long runs (a figure of speed, on a machine of its own); the suite turns
# them off (tests/fuzz/conftest.py): a loaded machine is not a bug, and pytest-timeout catches a hang
TIME_BOUNDS = True


def _elapsed_under(started: float, seconds: float, what: str) -> None:
    if not TIME_BOUNDS:
        return
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"{what} took {elapsed:.2f} s"


def saved_log_lines_accounted(data: bytes) -> int:
    """A saved log (any bytes) through the file reader, the assembler and the parsers: no exception, each event
    with a known level, and in the plain shape every line accounted for (the sum of `event.lines`). Returns the
    number of events."""
    events = list(parse_lines(read_lines(io.BytesIO(data), ORIGIN, max_line_bytes=200), Assembler(limits=LIMITS)))
    for event in events:
        assert event.level in LEVEL_RANK, event
    if data and not data.startswith(b'{"log":') and not data[:1].isdigit():
        normal = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # a lone CR ends a line too
        lines = normal.count(b"\n") + (0 if normal.endswith(b"\n") else 1)
        assert sum(event.lines for event in events) == lines, (data, events)
    return len(events)


def docker_frames_roundtrip(payloads: Sequence[tuple[int, bytes]], cuts: Sequence[int]) -> None:
    """Docker's multiplexed frames, cut into reads anywhere: the decoder yields exactly the frames sent."""
    wire = b"".join(struct.pack(">BxxxI", stream, len(payload)) + payload for stream, payload in payloads)
    positions = sorted({0, len(wire), *(cut % (len(wire) + 1) for cut in cuts)})
    pieces = [wire[a:b] for a, b in itertools.pairwise(positions) if b > a]
    reads = iter(pieces)
    got = [item for item in frames(lambda size: next(reads, b""), tty=False) if item != END_OF_READ]
    assert got == list(payloads)


def chunked_body_decodes_or_refuses(data: bytes) -> None:
    """Any bytes as an HTTP chunked body: decoded, or refused with ConnectionError; never another exception."""
    decoder = ChunkedDecoder()
    try:
        decoder.feed(data[: len(data) // 2])
        decoder.feed(data[len(data) // 2 :])
    except ConnectionError:
        pass


def redactor_total(text: str) -> None:
    started = time.perf_counter()
    out = _REDACTOR.text(text)
    assert isinstance(out, str)
    _elapsed_under(started, 1.0, "redacting")


def rule_file_loads_or_refuses(text: str) -> None:
    """Any text as a rule file: loaded, or refused with RuleLoadError (file:line messages); within 5 s."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "rules.yml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        started = time.perf_counter()
        try:
            load_rules([path])
        except RuleLoadError as error:
            located = all(str(problem).startswith(str(path)) for problem in error.errors)
            if not located:
                raise AssertionError(f"a problem without the file's location: {error.errors}") from None
        _elapsed_under(started, 5.0, "loading rules")


def config_loads_or_refuses(text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "logpipe.yml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        started = time.perf_counter()
        try:
            load_config(path)
        except ConfigError as error:
            if not str(error).startswith(str(path)):
                raise AssertionError(f"an error without the file's location: {error}") from None
        _elapsed_under(started, 5.0, "loading the config")


def template_renders_or_refuses(source: str) -> None:
    """Any template source: rendered, or a jinja2.TemplateError; within the render bounds."""
    started = time.perf_counter()
    with contextlib.suppress(jinja2.TemplateError):
        _RENDERER.env.from_string(source).render(_SAMPLE)
    _elapsed_under(started, 3.0, "rendering")
