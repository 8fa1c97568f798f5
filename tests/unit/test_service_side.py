"""What a service imports stays light: the agent's dependencies absent, `configure_logging` still loads and prints.
(tests/integration/test_install.py checks the same with real installs; this one runs in the fast loop.)"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

AGENT_ONLY = ["click", "docker", "pydantic", "yaml", "jinja2", "hyperscan", "rich", "apprise", "prometheus_client"]

PROBE = f"""
import sys
for name in {AGENT_ONLY!r}:
    sys.modules[name] = None  # importing it now raises ImportError, as in a service-only install
from logpipe.logconfig import configure_logging
import structlog
configure_logging("clip-worker", json=True)
structlog.get_logger().info("clip rendered", clip_id="clp_1")
"""


def test_configure_logging_imports_none_of_the_agents_dependencies() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    (printed,) = completed.stdout.splitlines()
    assert '"event":"clip rendered"' in printed
