"""`logpipe follow --events-out` on a container printing the planted-secrets corpus: the events file and
logpipe's own log hold none of the secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.docker.test_follow import finish, follow, log_lines
from tests.integration.planted_secrets import ORDER_ID, PLANTED_RULES, REQUEST_ID, corpus, leaks

CASES = corpus()


def test_events_out_holds_no_planted_secret(tmp_path: Path, container: Any) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "planted.log").write_text("\n".join(case.line for case in CASES) + "\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "planted.yml").write_text(PLANTED_RULES)
    (tmp_path / "logpipe.yml").write_text("state_dir: state\nrules: [rules]\n")
    box = container(
        "sleep 1; cat /corpus/planted.log; sleep 1",
        volumes={str(tmp_path / "corpus"): {"bind": "/corpus", "mode": "ro"}},
    )
    process = follow(tmp_path, box.name)
    finish(process)
    events_out = (tmp_path / "events.jsonl").read_text()
    assert len(log_lines(tmp_path / "events.jsonl")) == len(CASES)
    assert leaks(events_out, CASES) == []
    assert leaks((tmp_path / "events.jsonl.stderr").read_text(), CASES) == []
    assert ORDER_ID in events_out
    assert REQUEST_ID in events_out
