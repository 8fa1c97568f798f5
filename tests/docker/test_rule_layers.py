"""A follower running the pack with a user's rule directory on top of it: a file added to that directory is
picked up on `logpipe reload` (beside the pack's rules, which keep running), and the shell completes the names of
the daemon's containers for `logpipe follow`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_follow import follow, logged
from tests.docker.test_incidents import LOOP, cli, incidents, say
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

EXPORT_RULE = """
rules:
  - id: export-failed
    title: A clip export failed
    severity: warning
    runbook: Look at the render worker's log for the clip.
    match: {message: {startswith: 'Export failed:'}}
    group_by: [message]
    examples: {match: ['Export failed: clp_1 (codec)'], no_match: ['Export done: clp_1']}
"""
SIGNATURE = "Webhook error: No signatures found matching the expected signature for payload"


@pytest.fixture
def read_path(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGPIPE_DOCKER_READ", "auto")
    return "json-file"


def test_a_file_added_to_the_user_s_rule_directory_is_picked_up_on_reload(tmp_path: Path, container: Any) -> None:
    (tmp_path / "rules.d").mkdir()
    (tmp_path / "rules.d" / "tuning.yml").write_text("overrides:\n  - {id: signups-low, enabled: false}\n")
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules:\n  - pack: clipforge\n  - rules.d/\n")
    go = tmp_path / "go"
    go.mkdir()
    box = container(LOOP, volumes={str(go): {"bind": "/go", "mode": "rw"}})
    follower = follow(tmp_path, box.name, "events.jsonl", until_exit=False)
    try:
        logged(follower, "reading")
        say(go, "Export failed: clp_1 (codec)")  # no rule for it yet
        say(go, SIGNATURE)  # the pack's rules run under the user's
        wait_until(lambda: "stripe-webhook-signature" in incidents(tmp_path), 30, "the pack's rule matched")
        assert "export-failed" not in incidents(tmp_path)
        (tmp_path / "rules.d" / "exports.yml").write_text(EXPORT_RULE)
        reloaded = cli(tmp_path, "reload")
        assert reloaded.returncode == 0, reloaded.stderr
        logged(follower, "rules reloaded")
        say(go, "Export failed: clp_2 (disk full)")
        wait_until(lambda: "export-failed" in incidents(tmp_path), 30, "the added file's rule matched")
        listed = cli(tmp_path, "rules", "list").stdout.splitlines()
        assert [line.split()[0] for line in listed][-1] == "export-failed"
    finally:
        os.killpg(follower.pid, signal.SIGTERM)
        follower.wait(timeout=30)


def test_the_shell_completes_container_names_for_follow(container: Any) -> None:
    box = container("sleep 60")
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "logpipe")],  # the console script, as a shell runs it
        env={
            **os.environ,
            "_LOGPIPE_COMPLETE": "bash_complete",
            "COMP_WORDS": f"logpipe follow {box.name[:-2]}",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"plain,{box.name}" in completed.stdout.splitlines(), completed.stdout + completed.stderr
