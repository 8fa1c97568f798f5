"""deploy/logpipe.service: systemd accepts it (`systemd-analyze verify`, every warning counted as a failure) and it
keeps the hardening and the reload docs/deployment.md promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, unavailable

pytestmark = pytest.mark.integration

UNIT = ROOT / "deploy" / "logpipe.service"
INSTALLED_AT = "/opt/logpipe/bin/logpipe"


def verify(unit_text: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """verify checks that ExecStart's program exists: point it at this venv's logpipe, as installed would be."""
    if shutil.which("systemd-analyze") is None:
        unavailable("systemd-analyze is not installed (apt-get install systemd)")
    unit = directory / "logpipe.service"
    unit.write_text(unit_text.replace(INSTALLED_AT, str(Path(sys.executable).with_name("logpipe"))))
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )


def service_section() -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return dict(parser["Service"])


def test_systemd_analyze_verify_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    result = verify(UNIT.read_text(), tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_as_run_here_reports_a_misspelled_directive(tmp_path: Path) -> None:
    result = verify(UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"), tmp_path)
    assert "Unknown key 'ProtectSystm'" in result.stdout + result.stderr


def test_the_unit_is_hardened_restarts_on_failure_and_reloads_with_sighup() -> None:
    service = service_section()
    expected = {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "StateDirectory": "logpipe",
        "Restart": "on-failure",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "User": "logpipe",
        "SupplementaryGroups": "docker",
    }
    assert {key: service.get(key) for key in expected} == expected
    assert service["ExecStart"].startswith(f"{INSTALLED_AT} follow ")
