"""The README starts where users start and the reference lives in docs/, one page per topic: every link between
them leads somewhere, the README names every page, its quick start fits on one screen, the set-up's two commands
stay in view, and the rule count the docs state is what `logpipe rules list` lists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SCREEN = 24  # lines: a terminal's height, the most a quick start may take


def headings(page: Path) -> list[tuple[int, str]]:
    """The page's headings (level, text), outside code fences."""
    found, fence = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (match := re.match(r"(#{1,6}) (.*)", line)):
            found.append((len(match.group(1)), match.group(2)))
    return found


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return LINK.findall(text)


def test_every_link_between_the_readme_and_the_docs_leads_to_a_file_and_heading() -> None:
    broken = []
    for page in PAGES:
        for target in links(page):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            path, _, fragment = target.partition("#")
            goal = (page.parent / path).resolve() if path else page
            if not goal.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif fragment and goal.suffix == ".md" and fragment not in {anchor(h) for _, h in headings(goal)}:
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_readme_links_every_docs_page_and_each_page_has_one_title() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    assert {page.resolve() for page in DOCS.glob("*.md")} <= linked
    for page in DOCS.glob("*.md"):
        levels = [level for level, _ in headings(page)]
        assert (levels[0], levels.count(1)) == (1, 1), page.name  # one title, first


def test_the_quick_start_fits_on_a_screen_and_the_set_up_stays_in_view() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Quick start")
    quick = text[start : text.index("\n## ", start + 1)]
    assert len(quick.splitlines()) <= SCREEN
    assert text.index("## Quick start") < text.index("## Set-up")  # where users start, first
    set_up = text[text.index("## Set-up") :]
    block = re.search(r"```sh\n(.*?)```", set_up, re.S)
    assert block is not None
    assert [line.split()[:2] for line in block.group(1).splitlines()] == [["make", "demo"], ["make", "test"]]
    assert len(text[: text.index("make test")].splitlines()) < 60  # on the first screens, not 550 lines down


def test_the_rule_count_the_docs_state_is_what_rules_list_lists() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "logpipe", "rules", "list", "-o", "json"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()  # fmt: skip
    stated = [
        (page.name, int(count))
        for page in PAGES
        for count in re.findall(
            r"(\d+) rules from the shipped ClipForge pack|[Tt]he pack holds (\d+) rules|the pack's (\d+) rules",
            page.read_text(encoding="utf-8"),
        )
        for count in count
        if count
    ]
    assert stated  # the docs say it somewhere
    assert {name: count for name, count in stated if count != len(listed)} == {}
