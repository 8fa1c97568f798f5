"""Print the installed distributions whose version differs from uv.lock's: run by `make test-latest` and `make
test-lowest` before their tests, so a red run names the releases it tried (`sentry-sdk 3.0.0 -> 3.1.0`).

    .venv-latest/bin/python tests/lockdiff.py
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Each locked package's version; the project itself (no version in a registry) is left out."""
    packages = tomllib.loads(lock.read_text())["package"]
    return {canonical(p["name"]): p["version"] for p in packages if "registry" in p.get("source", {})}


def installed_versions() -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def differences(locked: dict[str, str], installed: dict[str, str]) -> list[str]:
    return [
        f"{name} {locked[name]} -> {version}"
        for name, version in sorted(installed.items())
        if name in locked and locked[name] != version
    ]


def main() -> int:
    changed = differences(locked_versions(), installed_versions())
    print(f"versions that differ from uv.lock ({len(changed)}):", *changed or ["none"], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
