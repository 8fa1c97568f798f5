"""The hot path (parsers, rule engine, json-file reader) compiled to C with mypyc, from the same type-checked
Python: measured 1.5x on bench/rules_throughput.py. Everything else stays Python.

Compiling is opt-in, `LOGPIPE_COMPILE=1` at build time (`make install` and the Dockerfile set it): a plain
`pip install logpipe` is pure Python and needs no C compiler, which is what a service installing only
the logging configuration wants. `LOGPIPE_PURE_PYTHON=1` still forces a pure build (the fast edit loop).

Metadata and the rest of the build configuration live in pyproject.toml.
"""

import os

from setuptools import Extension, setup

# per-line code only (the follower's loop and Docker reader included): what runs once per start (rule
# loading, CLI, sinks) gains nothing from compiling
COMPILED = [
    "logpipe/event.py",
    "logpipe/times.py",
    "logpipe/alert.py",
    "logpipe/pipeline.py",
    "logpipe/parsers/ansi.py",
    "logpipe/parsers/assemble.py",
    "logpipe/parsers/detect.py",
    "logpipe/parsers/json.py",
    "logpipe/parsers/nest.py",
    "logpipe/parsers/nestlocale.py",
    "logpipe/parsers/record.py",
    "logpipe/parsers/text.py",
    "logpipe/engine/conditions.py",
    "logpipe/engine/engine.py",
    "logpipe/engine/extract.py",
    "logpipe/engine/linear.py",
    "logpipe/engine/kinds.py",
    "logpipe/engine/metrics.py",
    "logpipe/engine/prefilter.py",
    "logpipe/engine/routes.py",
    "logpipe/engine/rules.py",
    "logpipe/engine/windows.py",
    "logpipe/sources/docker.py",
    "logpipe/sources/dockerevents.py",
    "logpipe/sources/file.py",
    "logpipe/sources/frames.py",
    "logpipe/sources/jsonfile.py",
    "logpipe/sources/ownthread.py",  # a compiled class can only derive from a compiled one
    "logpipe/agent/follower.py",
    "logpipe/agent/checkpoints.py",
    "logpipe/agent/held.py",
    "logpipe/agent/stats.py",
    "logpipe/agent/readers.py",
    "logpipe/agent/outlet.py",
]

# hand-written C (CPython API, no build dependency beyond the compiler mypyc needs too): the json-file reader's
# per-buffer decoder, with the Python decoder of the same module as its reference and fallback
C_EXTENSIONS = [
    Extension("logpipe.sources._jsonfile", ["logpipe/sources/_jsonfile.c"], extra_compile_args=["-O2"]),
]


def compiling() -> bool:
    return os.environ.get("LOGPIPE_COMPILE") == "1" and os.environ.get("LOGPIPE_PURE_PYTHON") != "1"


def extensions() -> list:  # type: ignore[type-arg]
    if not compiling():
        return []
    from mypyc.build import mypycify

    # its own mypy options, not pyproject's: the build environment has mypy but not the runtime packages (their
    # types are Any to the compiler, which costs nothing: the hot code calls them through their C APIs anyway)
    options = ["--config-file", "", "--ignore-missing-imports", "--no-site-packages", "--python-version", "3.11"]
    compiled = mypycify([*options, *COMPILED], opt_level="3", group_name="logpipe_native")
    return [*compiled, *C_EXTENSIONS]


setup(ext_modules=extensions())
