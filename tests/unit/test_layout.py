"""logpipe's shape (tests/importgraph.py reads it with `ast`): no import cycle, no module past ~400 lines, no class
taking more than 8 constructor parameters, about a dozen top-level modules. Value records (dataclasses, named
tuples, pydantic models) have their fields for parameters and are not counted; a class with an `__init__` is.

OVERSIZE and WIDE list the exceptions (none since the redesign, issue 26): they may only shrink."""

from __future__ import annotations

import ast

from tests.importgraph import ROOT, compiled_by_setup, cycles, read_modules, top_level

MAX_LINES = 400
MAX_PARAMETERS = 8
MAX_TOP_LEVEL = 14  # about a dozen: what services import, the values that flow, the wiring
OVERSIZE: set[str] = set()
WIDE: set[str] = set()


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(read_modules()) == []


def test_no_module_passes_400_lines() -> None:
    modules = read_modules()
    long = {name for name, module in modules.items() if module.lines > MAX_LINES and not module.shim}
    assert long <= OVERSIZE, f"split these: {sorted(long - OVERSIZE)}"


def test_no_class_takes_more_than_8_constructor_parameters() -> None:
    wide = {
        f"{name}.{cls}"
        for name, module in read_modules().items()
        for cls, count in module.constructors.items()
        if count > MAX_PARAMETERS and not module.shim
    }
    assert wide <= WIDE, f"group their parameters: {sorted(wide - WIDE)}"


def test_about_a_dozen_top_level_modules() -> None:
    assert len(top_level(read_modules())) <= MAX_TOP_LEVEL


def test_no_compiled_module_defines_a_module_getattr() -> None:
    """mypyc reads a module's attributes while it initialises the module; a compiled module-level __getattr__ then
    runs before its globals exist, and the import crashes (a segfault on the compiled build)."""
    offenders = []
    for module in compiled_by_setup():
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        if any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__" for node in tree.body):
            offenders.append(module)
    assert offenders == []
