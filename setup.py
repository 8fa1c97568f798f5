"""The hot path (parsers, rule engine, Docker readers, the follower's loop) compiled to C with mypyc, from the same
type-checked Python: measured 1.5x on bench/rules_throughput.py. Everything else stays Python.

Compiling is opt-in, `LOGPIPE_COMPILE=1` at build time (`make install` and the Dockerfile set it): a plain
`pip install logpipe` is pure Python and needs no C compiler, which is what a service installing only
the logging configuration wants. `LOGPIPE_PURE_PYTHON=1` still forces a pure build (the fast edit loop).

Metadata and the rest of the build configuration live in pyproject.toml."""

import os
from pathlib import Path

from setuptools import Extension, setup

# The per-line code, compiled package by package: each package listed is compiled whole but for the modules named
# beside it, which run once per start (loading, wiring) or cannot be compiled (pydantic models). A module added to a
# listed package is compiled unless it says otherwise here; tests/differential/test_fast_path.py checks every one
# loads compiled in a compiled build.
COMPILED_PACKAGES = {
    "logpipe/parsers": ("base.py", "levels.py"),
    # the rule files' loading (run once per start) and their pydantic schema
    "logpipe/engine": (
        "schema.py",
        "examples.py",
        "loading.py",
        "layers.py",
        "rulefiles.py",
        "problems.py",
        "fieldcheck.py",
        "didyoumean.py",
        "showrule.py",
    ),
    "logpipe/engine/kinds": (),
    "logpipe/engine/metrics": ("schema.py", "examples.py", "export.py"),
    "logpipe/sources/docker": (),
    "logpipe/agent": ("build.py", "reload.py", "monitors.py", "signals.py"),  # signals: a threading.Thread
}
# and single modules of packages that are not (a compiled class can only derive from a compiled one)
COMPILED_MODULES = (
    "logpipe/event.py",
    "logpipe/times.py",
    "logpipe/alert.py",
    "logpipe/pipeline.py",
    "logpipe/sources/file.py",
)

# hand-written C (CPython API, no build dependency beyond the compiler mypyc needs too): the json-file reader's
# per-buffer decoder, with the Python decoder of the same module as its reference and fallback
C_EXTENSIONS = [
    Extension("logpipe.sources.docker._jsonfile", ["logpipe/sources/docker/_jsonfile.c"], extra_compile_args=["-O2"]),
]


def compiled_modules() -> list[str]:
    """The files mypyc compiles: each listed package's modules but __init__.py, those it keeps in Python, and the
    deprecated import paths (a shim re-exports its new home, nothing to compile)."""
    found = [
        str(module)
        for package, kept in COMPILED_PACKAGES.items()
        for module in sorted(Path(package).glob("*.py"))
        if module.name != "__init__.py"
        and module.name not in kept
        and not module.read_text().startswith('"""Deprecated import path')
    ]
    return [*found, *COMPILED_MODULES]


def compiling() -> bool:
    return os.environ.get("LOGPIPE_COMPILE") == "1" and os.environ.get("LOGPIPE_PURE_PYTHON") != "1"


def extensions() -> list:  # type: ignore[type-arg]
    if not compiling():
        return []
    from mypyc.build import mypycify

    # its own mypy options, not pyproject's: the build environment has mypy but not the runtime packages (their
    # types are Any to the compiler, which costs nothing: the hot code calls them through their C APIs anyway)
    options = ["--config-file", "", "--ignore-missing-imports", "--no-site-packages", "--python-version", "3.11"]
    compiled = mypycify([*options, *compiled_modules()], opt_level="3", group_name="logpipe_native")
    return [*compiled, *C_EXTENSIONS]


if __name__ == "__main__":  # tests read the lists above without building
    setup(ext_modules=extensions())
