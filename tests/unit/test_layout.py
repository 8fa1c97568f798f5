"""logpipe's shape (tests/importgraph.py reads it with `ast`): no import cycle, no module past ~400 lines, no class
taking more than 8 constructor parameters, about a dozen top-level modules. Value records (dataclasses, named
tuples, pydantic models) have their fields for parameters and are not counted; a class with an `__init__` is.

OVERSIZE and WIDE list what the redesign (issue 26) has not split yet: they may only shrink."""

from __future__ import annotations

from tests.importgraph import cycles, read_modules, top_level

MAX_LINES = 400
MAX_PARAMETERS = 8
MAX_TOP_LEVEL = 14  # about a dozen: what services import, the values that flow, the wiring
OVERSIZE = {"logpipe.engine.conditions", "logpipe.engine.kinds", "logpipe.engine.rules", "logpipe.incidents.book"}
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
    assert len(top_level(read_modules())) <= 21
