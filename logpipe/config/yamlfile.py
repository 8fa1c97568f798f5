"""YAML that remembers where each value came from, so errors can name the file and line of a bad field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from logpipe.errors import Location, RuleError


class LineDict(dict[str, Any]):
    """A mapping from YAML, with the line of each key (1-based) and of the mapping itself."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


#: how many nodes the aliases of one file may add when expanded: a real file's aliases add a few hundred, while a
#: "billion laughs" file of a few hundred bytes expands to billions (and gigabytes once anything walks it)
ALIAS_BUDGET = 100_000


class _LineLoader(yaml.SafeLoader):
    """Composes with a budget on what aliases expand to, checked as each alias is read (its anchor is complete)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._alias_budget = ALIAS_BUDGET
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._alias_budget -= _expanded_size(anchored, self._sizes)
                if self._alias_budget < 0:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"aliases expand to more than {ALIAS_BUDGET} values (an alias bomb?); "
                        "write the values out or use fewer nested aliases",
                        event.start_mark,
                    )
        return super().compose_node(parent, index)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes `node` stands for once every alias inside it is expanded (capped past the budget)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a node that contains itself (a recursive anchor) counts once
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, sizes)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            total += _expanded_size(key, sizes) + _expanded_size(value, sizes)
    total = min(total, ALIAS_BUDGET + 1)
    sizes[id(node)] = total
    return total


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line, mapping.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"keys must be strings, found {key!r}", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line, items.item_lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(Location(str(path)), f"cannot read: {error}") from None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except RecursionError:
        raise RuleError(Location(str(path)), "invalid YAML: nested too deeply") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise RuleError(Location(str(path), line), f"invalid YAML: {problem}") from None


def line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the value at `path` (keys and list indexes), or of its nearest ancestor that has one."""
    node, line = document, getattr(document, "line", None)
    for part in path:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line, node = node.key_lines.get(part, line), node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
