"""The fixture app's real output (examples/nestjs-{text,json,pino}.log: Docker's json-file log of one run of
tests/nestjs/test_nestjs_app.py, `docker restart` included), replayed as `logpipe replay` reads it: each failure
the scenario caused is counted once in its category and each kind of failure pages once, as the scenario's own
answer says (examples/nestjs-expected.json). The same check as the live test, without Docker, Node or servers."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from logpipe.engine import Engine, load_rules
from logpipe.event import Origin
from logpipe.incidents.book import IncidentBook
from logpipe.pipeline import parse_lines, run_incidents
from logpipe.sources.file import read_lines
from tests.conftest import EXAMPLES
from tests.nestjs.accounting import PAGED_SEVERITIES, categories_counted
from tests.realworld import RULE_CATEGORIES

EXPECTED = json.loads((EXAMPLES / "nestjs-expected.json").read_text())


@pytest.mark.parametrize("mode", ["text", "json", "pino"])
def test_the_captured_run_counts_each_failure_once_and_pages_once_per_kind(mode: str) -> None:
    path = EXAMPLES / f"nestjs-{mode}.log"
    with path.open("rb") as stream:
        events = list(parse_lines(read_lines(stream, Origin("file", path.name))))
    pack = load_rules()
    made = list(run_incidents(events, Engine(pack), IncidentBook(pack)))
    pages = Counter(
        RULE_CATEGORIES.get(n.rule, n.rule)
        for n in made
        if n.kind == "firing" and n.folded_into is None and n.severity in PAGED_SEVERITIES
    )
    assert dict(categories_counted(events)) == EXPECTED["failures"]
    assert dict(pages) == EXPECTED["pages"]
