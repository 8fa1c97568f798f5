"""Import paths the redesign (issue 26) moved still import, for one release: each old module is a shim that imports
its new home with a DeprecationWarning naming it, and the CHANGELOG lists it. Nothing of logpipe's imports a
shim, so none is loaded unless a user asks for it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT
from tests.importgraph import read_modules

SHIMS = sorted(name for name, module in read_modules().items() if module.shim)

PROBE = """
import importlib, json, sys, warnings
found = {}
for name in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module(name)
    found[name] = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
print(json.dumps(found))
"""


def test_every_old_path_imports_with_a_deprecation_warning_naming_its_new_home() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *SHIMS], capture_output=True, text=True, check=True, timeout=120
    )
    warned = json.loads(done.stdout)
    for old in SHIMS:
        ours = [message for message in warned[old] if message.startswith(f"{old} moved to logpipe.")]
        assert len(ours) == 1, (old, warned[old])


def test_no_module_of_logpipe_imports_an_old_path() -> None:
    modules = read_modules()
    assert {name: sorted(m.imports & set(SHIMS)) for name, m in modules.items() if m.imports & set(SHIMS)} == {}


def test_the_changelog_lists_every_old_path() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert [old for old in SHIMS if f"`{old}`" not in changelog] == []
