"""logpipe's shape, read with `ast`: its modules and their imports (every import, module-level or inside a
function or `if TYPE_CHECKING:`), the import cycles among them, each module's length and each class's constructor
parameters. tests/unit/test_layout.py holds the limits; run this file for the figures:

    .venv/bin/python -m tests.importgraph

Deprecated import paths (shim modules, whose docstring starts with SHIM_MARK) are listed apart: they import their
new home and nothing imports them, so they are left out of the cycles, the lengths and the count of top-level
modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "logpipe"
SHIM_MARK = "Deprecated import path"
# value classes: their fields are their constructor's parameters, generated, and a record may need many
RECORD_BASES = {"NamedTuple", "BaseModel", "_Strict", "TypedDict", "Protocol", "Exception"}


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    shim: bool
    external: bool = False  # a compiled extension, known by its stub
    imports: set[str] = field(default_factory=set)  # logpipe modules it imports
    constructors: dict[str, int] = field(default_factory=dict)  # class -> parameters of its explicit __init__


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_modules() -> dict[str, Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        docstring = ast.get_docstring(tree) or ""
        name = module_name(path)
        modules[name] = Module(name, path, len(text.splitlines()), docstring.startswith(SHIM_MARK))
        modules[name].constructors = dict(_constructors(tree))
    for stub in sorted(PACKAGE.rglob("*.pyi")):  # a C extension (its stub beside its source): a leaf
        if stub.with_suffix(".py").exists():
            continue
        name = module_name(stub)
        modules[name] = Module(name, stub, 0, False, external=True)
    for module in modules.values():
        if not module.external:
            module.imports = set(_imports(module, modules)) - {module.name}
    return modules


def _constructors(tree: ast.Module) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                arguments = item.args
                count = len(arguments.posonlyargs) + len(arguments.args) + len(arguments.kwonlyargs) - 1  # self
                yield node.name, count


def _imports(module: Module, modules: dict[str, Module]) -> Iterator[str]:
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(ast.parse(module.path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _known(alias.name, modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield from _known(submodule if submodule in modules else base, modules)


def _known(name: str, modules: dict[str, Module]) -> Iterator[str]:
    """The logpipe module `name` is, or the innermost one holding it (`logpipe.engine.Engine`: logpipe.engine)."""
    while name:
        if name in modules:
            yield name
            return
        name = name.rpartition(".")[0]


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module), shims left out (Tarjan)."""
    graph = {name: sorted(m.imports) for name, m in modules.items() if not m.shim}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative: the graph is deep enough to worry the recursion limit
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    return sorted(found)


def top_level(modules: dict[str, Module]) -> list[str]:
    """The modules right under logpipe/ (not packages, not shims)."""
    return sorted(
        name for name, m in modules.items() if name.count(".") == 1 and m.path.name != "__init__.py" and not m.shim
    )


def compiled_by_setup() -> list[str]:
    """The modules setup.py compiles (its COMPILED_PACKAGES and COMPILED_MODULES, read without building)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    lists = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("COMPILED_PACKAGES", "COMPILED_MODULES")
    }
    files = [
        module
        for package, kept in lists["COMPILED_PACKAGES"].items()
        for module in sorted((ROOT / package).glob("*.py"))
        if module.name != "__init__.py"
        and module.name not in kept
        and not module.read_text().startswith('"""Deprecated import path')
    ]
    files += [ROOT / module for module in lists["COMPILED_MODULES"]]
    return [".".join(file.relative_to(ROOT).with_suffix("").parts) for file in files]


def main() -> None:
    modules = read_modules()
    real = {name: m for name, m in modules.items() if not m.shim and not m.external}
    longest = max(real.values(), key=lambda m: m.lines)
    params = [(count, f"{m.name}.{cls}") for m in real.values() for cls, count in m.constructors.items()]
    most, widest = max(params)
    found = cycles(modules)
    print(f"modules: {len(real)} ({len(modules) - len(real)} deprecated import paths besides)")
    print(f"top-level modules: {len(top_level(modules))} ({', '.join(top_level(modules))})")
    print(f"longest module: {longest.name} ({longest.lines} lines)")
    print(
        "modules over 400 lines: "
        + (", ".join(f"{m.name} {m.lines}" for m in real.values() if m.lines > 400) or "none")
    )
    print(f"most constructor parameters: {widest} ({most})")
    print("classes over 8: " + (", ".join(f"{n} {c}" for c, n in sorted(params, reverse=True) if c > 8) or "none"))
    print(f"import cycles: {len(found)}")
    for cycle in found:
        print("  " + " <-> ".join(cycle))


if __name__ == "__main__":
    main()
