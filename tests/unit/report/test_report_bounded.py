"""Bounded memory for what is kept, and a cap on summary lists in reports (issue 28, finding 16): the report
listed every affected user (250k users made a 16.6 MB page) and kept a counter entry for each. A tally keeps at
most TRACKED keys and counts what comes past them; the page and the terminal list the top few with `+N more`.
The time and memory of a 1M-line report are bench/report_size.py's."""

from __future__ import annotations

import io
import re

import pytest

from logpipe.engine import load_rules
from logpipe.event import Origin
from logpipe.pipeline import parse_lines
from logpipe.report import bounded
from logpipe.report.collect import Report, build_report
from logpipe.report.html import render_html
from logpipe.sources.file import read_lines

CREDIT = "[Nest] 1  - 11/30/2026, 7:59:03 AM   ERROR [CreditsService] Credit deduction failed for user {user}: x\n"
OOPS = "[Nest] 1  - 11/30/2026, 7:59:04 AM   ERROR [Worker] {word} went wrong\n"


def _report(text: str) -> Report:
    lines = parse_lines(read_lines(io.BytesIO(text.encode()), Origin("file", "api.log")))
    return build_report(lines, load_rules(None), "api.log")


def test_bounded_memory_a_report_lists_the_top_users_with_a_count_of_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounded, "TRACKED", 100)  # the cap, small: 500 users are past it as 250k are past 10,000
    text = CREDIT.format(user="usr_often") * 3 + "".join(CREDIT.format(user=f"usr_{i:x}") for i in range(500))
    report = _report(text)
    assert len(report.credits.users) == 100  # kept: the cap, not the log's 501
    assert report.untracked["users"] == 401  # the failures of the users past it, counted
    assert report.credits.by_label == {"other": 503}  # the totals are whole
    page = render_html(report)
    listed = re.findall(r"<code data-user>([^<]+)</code> \((\d+)\)", page)
    assert len(listed) == bounded.LISTED
    assert listed[0] == ("usr_often", "3")  # the most failures first
    assert "+80 more" in page  # the other users kept
    assert "(and 401 failures of users past the first 100, not kept)" in page


def test_bounded_memory_error_messages_are_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounded, "TRACKED", 50)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"]
    shapes = [f"{a}{b}" for a in words for b in words]  # 121 messages no blanking makes one
    report = _report("".join(OOPS.format(word=shape) for shape in shapes))
    assert len(report.error_messages) == 50
    assert report.untracked["error messages"] == 71
    page = render_html(report)
    assert len(re.findall(r"<tr data-error-message>", page)) == 10
    assert "+40 more, and 71 errors of other messages not kept" in page
