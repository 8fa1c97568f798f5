"""Run logpipe from its .py files even where `make install` left mypyc-compiled modules (.so) beside them.

Two users: the differential test (tests/differential/), whose pure-Python reference must not run the compiled hot
path it checks, and the coverage-guided fuzzer (bench/fuzz_guided.py), which cannot instrument compiled code.

    python -m tests.source_only replay --format jsonl app.log    # `logpipe replay ...`, pure Python

Install the finder before anything imports logpipe (logpipe/__init__.py imports the compiled event module).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import (
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    ModuleSpec,
    PathFinder,
    SourceFileLoader,
)
from types import ModuleType


class SourceOnly:
    """A meta path finder that finds `logpipe` and its submodules as source files only (extension modules are
    not looked at); every other module is left to the usual finders."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "logpipe" and not name.startswith("logpipe."):
            return None
        for entry in path if path is not None else sys.path:
            spec = FileFinder(entry or ".", (SourceFileLoader, SOURCE_SUFFIXES)).find_spec(name)
            if spec is not None:
                return spec
        # an extension module with no source (logpipe/sources/docker/_jsonfile.c's): not found, as on a pure install,
        # where the code importing it falls back to its Python twin; the usual finders would load it
        compiled = PathFinder.find_spec(name, path)
        if compiled is not None and isinstance(compiled.loader, ExtensionFileLoader):
            raise ModuleNotFoundError(f"No module named {name!r} (source only: extensions are not loaded)", name=name)
        return None  # not logpipe's own code (logpipe.defaultrules: the rules, found by the editable install's finder)


def install() -> None:
    """From now on, logpipe is imported from source; refuses if some of it is already imported (compiled,
    perhaps): a mix of the two would be neither path."""
    loaded = sorted(name for name in sys.modules if name == "logpipe" or name.startswith("logpipe."))
    if loaded:
        raise RuntimeError(f"logpipe is already imported ({', '.join(loaded[:3])}...): install SourceOnly first")
    if not any(isinstance(finder, SourceOnly) for finder in sys.meta_path):
        sys.meta_path.insert(0, SourceOnly())


if __name__ == "__main__":
    install()
    from logpipe.launcher import main

    sys.argv[0] = "logpipe"
    main()
