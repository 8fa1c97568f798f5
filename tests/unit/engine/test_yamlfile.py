"""YAML in rule and config files: aliases expand within a budget, refused past it with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpipe.config.load import load_config
from logpipe.config.yamlfile import load_yaml
from logpipe.engine import RuleLoadError, load_rules
from logpipe.errors import ConfigError, RuleError

# nine levels of nine aliases: 387 million strings once expanded, from 600 bytes
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_alias_bomb_in_rules_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text(BOMB)
    with pytest.raises(RuleLoadError) as raised:  # expanded, it would not fit in memory: refused before
        load_rules([path])
    (problem,) = [str(error) for error in raised.value.errors]
    assert problem.startswith(f"{path}:6: invalid YAML: aliases expand to more than 100000 values")


def test_alias_bomb_in_config_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "logpipe.yml"
    path.write_text(BOMB)
    with pytest.raises(ConfigError, match=f"^{path}:6: invalid YAML: aliases expand to more than 100000 values"):
        load_config(path)


def test_ordinary_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text("base: &base {url: x, kind: webhook}\na: *base\nb: [*base, *base]\n")
    assert load_yaml(path) == {
        "base": {"url": "x", "kind": "webhook"},
        "a": {"url": "x", "kind": "webhook"},
        "b": [{"url": "x", "kind": "webhook"}] * 2,
    }


def test_nesting_too_deep_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RuleError, match=f"^{path}: invalid YAML: nested too deeply$"):
        load_yaml(path)
