"""The lock: uv.lock resolves pyproject.toml's ranges as they stand, its exports in requirements/ are what it
holds, and every dependency's range stops before its next major."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.lockdiff import canonical, locked_versions

UV = Path(sys.executable).parent / "uv"  # a dev dependency, locked like the rest

# each export `make lock` writes, and the arguments that write it
EXPORTS = {
    "agent.txt": ["--extra", "agent"],
    "dev.txt": ["--extra", "dev"],
    "agent-pins.txt": ["--extra", "agent", "--no-hashes", "--no-annotate"],
}


def test_the_lock_resolves_pyproject_as_it_stands() -> None:
    checked = subprocess.run(
        [UV, "lock", "--check"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, f"uv.lock is out of date with pyproject.toml: run `make lock`\n{checked.stderr}"


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_export_is_what_the_lock_holds(name: str) -> None:
    command = [UV, "export", "--frozen", "--no-header", "--no-emit-project", "--format", "requirements-txt", "-q"]
    exported = subprocess.run(
        [*command, *EXPORTS[name]], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (ROOT / "requirements" / name).read_text(), f"requirements/{name}: run `make lock`"


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [r for r in [*project["dependencies"], *extras] if not r.startswith("logpipe[")]


def _release(text: str) -> tuple[int, int]:
    major, _, rest = text.partition(".")
    return int(major), int(re.match(r"\d*", rest)[0] or 0)  # type: ignore[index]


@pytest.mark.parametrize("requirement", _requirements())
def test_every_range_holds_the_locked_version_and_stops_before_its_next_major(requirement: str) -> None:
    """A release the lock has never held cannot reach a user: the next major (for 0.x, the next minor) of what
    is locked is outside the range. Lower bounds: the service side's are tested by `make test-lowest`, the rest
    are the locked versions when the range was last raised."""
    name = canonical(re.split(r"[<>=\[; ]", requirement)[0])
    specifier = requirement.split(";", maxsplit=1)[0]
    lower, upper = re.search(r">=\s*([\d.]+)", specifier), re.search(r"<\s*([\d.]+)", specifier)
    assert lower, f"{requirement}: wants a lower bound (>=tested)"
    assert upper, f"{requirement}: wants an upper bound (<next major)"
    locked = _release(locked_versions()[name])
    assert _release(lower[1]) <= locked < _release(upper[1]), f"{requirement}: the lock holds {locked}"
    next_major = (0, locked[1] + 1) if locked[0] == 0 else (locked[0] + 1, 0)
    assert _release(upper[1]) == next_major, f"{requirement}: the upper bound is not the next major of {locked}"
