"""Where rules come from: rule sources in order (a shipped pack by name, then the user's directories and files),
the rule files and rule-test files each holds, and how a file is named to people."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from logpipe.engine.didyoumean import did_you_mean
from logpipe.errors import Location, RuleError

RULE_SUFFIXES = (".yml", ".yaml")
#: `refunds.test.yml` beside `refunds.yml`: tests over time of the rules in that directory (ruletests/)
TEST_SUFFIXES = (".test.yml", ".test.yaml")
PACK_PREFIX = "pack:"


def default_rules_dir() -> Path:
    """The ClipForge rule pack shipped with logpipe (the repository's rules/, installed as package data)."""
    return Path(str(resources.files("logpipe.defaultrules")))


#: the packs shipped with logpipe, by the name `rules: [{pack: NAME}]` and `--rules pack:NAME` use
PACKS: dict[str, Callable[[], Path]] = {"clipforge": default_rules_dir}
DEFAULT_PACK = "clipforge"


def pack_dir(name: str) -> Path:
    """A shipped pack's directory; an unknown name is an error naming the packs there are."""
    found = PACKS.get(name)
    if found is None:
        raise ValueError(f"no rule pack {name!r}{did_you_mean(name, PACKS)} (packs: {', '.join(sorted(PACKS))})")
    return found()


@functools.cache
def pack_rule_ids(name: str) -> frozenset[str]:
    """The ids a pack defines, read without compiling it (to say "load the pack first" for an override)."""
    return frozenset(rule_ids_in([pack_dir(name)]))


def rule_ids_in(sources: Iterable[Path]) -> list[str]:
    """The rule ids the sources' files define, read as plain YAML (nothing compiled, nothing checked): for
    completion and hints, where an answer must come at once and a broken file just adds nothing."""
    import yaml

    found: dict[str, None] = {}
    try:
        files = rule_files(sources)
    except RuleError:
        return []
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        rules = document.get("rules") if isinstance(document, dict) else None
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                found[rule["id"]] = None
    return list(found)


def rule_source(text: str) -> Path:
    """A rule source as written on the command line: `pack:clipforge`, or a file or directory."""
    if text.startswith(PACK_PREFIX):
        return pack_dir(text.removeprefix(PACK_PREFIX))
    return Path(text)


def pack_of(path: Path) -> str | None:
    """The shipped pack a file or directory belongs to, if any (for showing where a rule comes from)."""
    for name, directory in PACKS.items():
        home = directory()
        if path == home or home in path.parents:
            return name
    return None


def shown(file: str | Path) -> str:
    """A rule file as people read it: `pack:clipforge/database.yml` for the shipped pack (wherever it is
    installed), a path relative to the working directory when under it, else the path as given."""
    path = Path(file)
    pack = pack_of(path)
    if pack is not None:
        return f"{PACK_PREFIX}{pack}/{path.relative_to(PACKS[pack]()).as_posix()}"
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if not relative.startswith("..") else str(path)


def shown_location(location: Location) -> str:
    where = shown(location.file)
    return where if location.line is None else f"{where}:{location.line}"


def is_test_file(path: Path) -> bool:
    return path.name.endswith(TEST_SUFFIXES)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """The rule files of the sources, in order: a directory's files sorted by name (its test files left out)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file() and not is_test_file(p))
            )
        elif is_test_file(path):
            continue  # a rule-test file named directly: `rules test` reads it, it holds no rules
        elif path.exists():
            files.append(path)
        else:
            raise RuleError(Location(str(path)), "no such file or directory")
    return files


def test_files(paths: Iterable[Path]) -> list[Path]:
    """The rule-test files of the sources, in order: `*.test.yml` in a directory, or beside a rule file."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if is_test_file(p) and p.is_file()))
        elif is_test_file(path):
            found.append(path)
        else:
            sibling = [path.with_name(path.stem + suffix) for suffix in TEST_SUFFIXES]
            found.extend(p for p in sibling if p.is_file())
    return list(dict.fromkeys(found))
