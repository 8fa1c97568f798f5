"""Without hyperscan (no wheel for aarch64 or musllinux) the prefilter scans with one RE2 set, and the pack gives
the same alerts: the bundled logs replayed, and the pack's examples checked (`logpipe rules test`), in a process
where `import hyperscan` fails. The comparison needs hyperscan here: CI has it (the x86_64 wheel), so there a
missing hyperscan fails the test; elsewhere it is skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from logpipe.engine.conditions import AttributeIs, Pattern
from logpipe.engine.prefilter import HYPERSCAN_AVAILABLE, Prefilter
from tests.conftest import EXAMPLES, unavailable
from tests.unit.engine.helpers import event

# what a platform without the wheel sees: `import hyperscan` raises ImportError (None in sys.modules does that)
WITHOUT_HYPERSCAN = "import sys; sys.modules['hyperscan'] = None; "
LOGPIPE_WITHOUT_HYPERSCAN = (
    WITHOUT_HYPERSCAN + "from logpipe.engine import load_rules; "
    "assert load_rules().prefilter.scanner == 're2', 'hyperscan still in use'; "
    "from logpipe.launcher import main; sys.argv[0] = 'logpipe'; main()"
)


def logpipe(*arguments: str | Path, hyperscan: bool) -> str:
    prefix = ["-m", "logpipe"] if hyperscan else ["-c", LOGPIPE_WITHOUT_HYPERSCAN]
    completed = subprocess.run(
        [sys.executable, *prefix, *map(str, arguments)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.mark.parametrize("log", sorted(EXAMPLES.glob("*.log")), ids=lambda path: path.name)
def test_the_pack_sends_the_same_notifications_with_and_without_hyperscan(log: Path) -> None:
    if not HYPERSCAN_AVAILABLE:
        unavailable("compares against hyperscan, which is not installed here (its wheel is x86_64 and aarch64)")
    with_hyperscan = logpipe("replay", "--format", "jsonl", log, hyperscan=True)
    without = logpipe("replay", "--format", "jsonl", log, hyperscan=False)
    assert with_hyperscan.count("\n") >= 10  # the incidents of each bundled run: not two empty outputs
    assert without == with_hyperscan


def test_the_rule_pack_examples_pass_without_hyperscan() -> None:
    """Every rule's and metric's examples, as `logpipe rules test` checks them (tests/rules runs them one test
    each, with whatever scanner is installed)."""
    summary = logpipe("rules", "test", hyperscan=False).splitlines()[-1]
    assert summary.endswith(" passed, 0 failed"), summary
    assert int(summary.split()[0]) >= 50  # the pack's rules and metrics: not an empty run


def re2_candidates(needs: list[frozenset[Pattern | AttributeIs] | None], message: str, **attributes: str) -> list[int]:
    prefilter = Prefilter(needs, use_hyperscan=False)
    assert prefilter.scanner == "re2"
    return list(prefilter.candidates(event(0, message, **attributes), message))


def test_the_re2_set_finds_each_pattern_once_caseless_where_the_rule_is() -> None:
    needs: list[frozenset[Pattern | AttributeIs] | None] = [
        frozenset({Pattern("ECONNREFUSED", ignore_case=False)}),
        frozenset({Pattern("deadlock detected", ignore_case=True)}),
        frozenset({Pattern(r"status=5\d\d", ignore_case=False), AttributeIs("level", "error")}),
        None,  # no need: a candidate for every event
    ]
    assert re2_candidates(needs, "connect ECONNREFUSED 10.0.0.3:5432") == [0, 3]
    assert re2_candidates(needs, "connect econnrefused") == [3]
    assert re2_candidates(needs, "ERROR: DEADLOCK DETECTED") == [1, 3]
    assert re2_candidates(needs, "status=503") == [2, 3]
    assert re2_candidates(needs, "status=200", level="error") == [2, 3]


def test_the_re2_set_reads_line_anchors_per_line_of_a_stack() -> None:
    needs: list[frozenset[Pattern | AttributeIs] | None] = [
        frozenset({Pattern(r"^\s+at PrismaClient", ignore_case=False)}),
        frozenset({Pattern(r"Error\Z", ignore_case=False)}),
    ]
    assert re2_candidates(needs, "TypeError: x\n    at PrismaClient.query (db.ts:1)\n    at main") == [0]
    assert re2_candidates(needs, "something\nended in Error") == [1]
