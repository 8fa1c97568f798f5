"""errors.py's docstring draws every exception class logpipe defines, under its real base, with the module that
defines it (httpx draws its tree the same way): a class added, moved or re-based without the drawing fails here."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import logpipe.errors
from tests.importgraph import read_modules

NODE = re.compile(r"(?P<name>[A-Za-z0-9_.]+)(?: \((?P<module>[a-z_.]+)\))?")


def drawn() -> dict[str, tuple[str, str]]:
    """class name -> (its base as drawn, its module as drawn) from the docstring's tree. A line is a root (it
    starts with the name), a node (after `├── ` or `└── `: four characters per level), or the rest of a
    description (skipped)."""
    doc = logpipe.errors.__doc__ or ""
    found: dict[str, tuple[str, str]] = {}
    parents: dict[int, str] = {}  # depth -> the name drawn last at that depth
    for line in doc[doc.index("\nException\n") + 1 :].splitlines():
        at = max(line.find("├── "), line.find("└── "))
        if at < 0 and line[:1].isalpha():
            depth, rest = 0, line
        elif at >= 0:
            depth, rest = at // 4 + 1, line[at + 4 :]
        else:
            continue
        match = NODE.match(rest)
        assert match is not None, line
        if depth:
            found[match["name"]] = (parents[depth - 1], match["module"] or "errors")
        parents[depth] = match["name"]
    return found


def defined() -> dict[str, tuple[str, str]]:
    """class name -> (its base, its module) of every public exception class in logpipe's modules."""
    found = {}
    for name, module in read_modules().items():
        if module.shim or module.external or name == "logpipe.__main__":  # shims re-export; __main__ runs
            continue
        for cls_name, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name and not cls_name.startswith("_"):
                found[cls_name] = (_drawn_name(cls.__bases__[0]), name.removeprefix("logpipe."))
    return found


def _drawn_name(base: type) -> str:
    """A builtin or logpipe class by its name; another library's with its package (jinja2.TemplateRuntimeError)."""
    if base.__module__ == "builtins" or base.__module__.startswith("logpipe"):
        return base.__name__
    return f"{base.__module__.split('.')[0]}.{base.__name__}"


def test_the_tree_in_errors_py_is_every_exception_class_with_its_base_and_module() -> None:
    assert drawn() == defined()


def test_the_name_of_the_never_raised_rule_runtime_error_still_imports_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="RuleRuntimeError is never raised"):
        from logpipe.errors import RuleRuntimeError
    assert issubclass(RuleRuntimeError, logpipe.errors.LogpipeError)  # type: ignore[arg-type]
