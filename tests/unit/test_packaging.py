"""The package as installed: its package list, and the rule pack found by a normal (non-editable) install."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from tests.conftest import ROOT


def test_declared_packages_are_every_package_directory() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    # every directory holding files is a package, code or data (templates): one left out is not installed
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "logpipe").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".so")
    }
    assert declared == found | {"logpipe.defaultrules"}
    assert config["package-dir"]["logpipe.defaultrules"] == "rules"


def test_a_wheel_install_finds_the_default_rule_pack(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "wheel").glob("logpipe-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp_path / "site"), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import logpipe, logpipe.engine as e; rs = e.load_rules(); "
        "from logpipe.redact import Redactor; assert Redactor().text('sk_live_51HxYzAbCdEfGhIj') == '[REDACTED]'; "
        "print(logpipe.__file__); print(e.default_rules_dir()); print(len(rs.rules))"
    )
    # -S: no .pth files, so the editable install's import hook stays out; dependencies still come from the venv.
    # cwd: with -c, the working directory comes first on sys.path, and the repository's logpipe/ must not.
    dependencies = sysconfig.get_paths()["purelib"]
    completed = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={"PYTHONPATH": f"{tmp_path / 'site'}:{dependencies}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    module_file, rules_dir, count = completed.stdout.split()
    assert module_file.startswith(str(tmp_path / "site"))
    assert rules_dir == str(tmp_path / "site" / "logpipe" / "defaultrules")
    in_repository = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert count == in_repository.stdout.split()[2]


def test_building_the_package_prints_no_warning(tmp_path: Path) -> None:
    """What `make install` and `pip install .` build: setuptools' output holds no warning (a package directory left
    out of `packages`, data installed as a package: two screens of them on a newcomer's first `make demo`). pip
    hides the backend's output unless -v, so -v, and only the backend's lines (pip's own notices about this
    machine's index locations are not the package's)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        env={**env, "LOGPIPE_COMPILE": "0"},
        timeout=300,
        check=True,
    )
    output = (completed.stdout + completed.stderr).splitlines()
    warnings = [
        line for line in output if "warn" in line.lower() and not line.strip().startswith("WARNING: Location '")
    ]
    assert warnings == []
