"""The fast lane of rule regexes (engine/linear.py, `one_pass`): a pattern anchored at the start whose every choice
the next character decides runs on Python's `re`, in linear time, and must answer exactly as RE2 does; every
other pattern stays on RE2."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logpipe.engine import load_rules
from logpipe.engine.linear import _ANCHOR_START, _UNANCHORED, LinearRegex, one_pass

ACCESS = (
    r"^(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<path>\S+) (?P<status>[1-5]\d\d) (?P<ms>\d+(?:\.\d+)?)ms"
)

# a backtracking engine can undo choices here for as long as the text is: each stays on RE2
BACKTRACKING = [
    "^(a+)+$",  # a repeat of a repeat
    "^(a|a)*b",  # a repeat of alternatives
    r"^\S+\S+x",  # where the first repeat stops is not decided by the next character
    "^a*a*b",
    "^(a|ab)*c",
    "^.*x",
    "^(?:ab)?a",  # whether to take the optional part is not decided by the next character
    "^a*?b",  # lazy
    "^(?=a)a",  # lookahead (refused by LinearRegex anyway)
    "ECONNREFUSED",  # not anchored: n start positions
    "(?i)^get",  # inline flags
    "^a$",  # other anchors
    "^(GET|PUT)(GET|PUT)(GET|PUT)(GET|PUT)(GET|PUT)(GET|PUT)(GET|PUT)",  # 2^7 runs of the rest: over the budget
]


@pytest.mark.parametrize("pattern", BACKTRACKING)
def test_patterns_with_choices_to_undo_stay_on_re2(pattern: str) -> None:
    assert not one_pass(pattern)


@pytest.mark.parametrize(
    "pattern", [ACCESS, r"^/api/v1/payments/(?:stripe|razorpay)/webhook", r'^[^"]*"', r"^\d+\.\d+", "^(?:a-)?b+"]
)
def test_patterns_decided_by_the_next_character_take_the_fast_lane(pattern: str) -> None:
    assert one_pass(pattern)


def test_the_packs_access_log_extractor_takes_the_fast_lane() -> None:
    """The regex run on every NestJS text access line (0.72 us on RE2, 0.24 on `re`)."""
    extractor = next(e for e in load_rules().extractors if e.id == "http-access-nest")
    assert extractor.regex is not None
    assert extractor.regex._fast is not None
    line = 'GET /api/v1/clips/clp_8f2k/metadata 200 23ms - 120b - 10.42.1.7 "Mozilla/5.0"'
    assert extractor.regex.search(line) == ("GET", "/api/v1/clips/clp_8f2k/metadata", "200", "23")


def test_text_re_and_re2_may_read_differently_goes_to_re2() -> None:
    """Beyond ASCII (Unicode classes) and with a vertical tab (not a space to RE2) the answer is RE2's."""
    regex = LinearRegex(r"^(\S+) (\d+)")
    assert regex._fast is not None
    assert regex.search("a\vb 12") == ("a\vb", "12")  # RE2: \v is not a space; `re` says it is
    assert regex.search("é١ 12") == regex._run_re2(_UNANCHORED, "é١ 12")


# --- the fast lane against RE2 on generated patterns and texts ----------------------------------------------------
ALPHABET = "ab/ .-_0123\t\n\vx"
single = st.sampled_from(["a", "b", "/", r"\.", "-", "0", r"\d", r"\S", r"\w", r"\s", "[^ ]", "[a-c]", ".", "[^/]"])
quantifier = st.sampled_from(["", "", "+", "*", "?", "{2}", "{1,3}"])
atom = st.builds(lambda item, times: item + times, single, quantifier)
words = st.lists(
    st.text(alphabet="ab/.-0", min_size=1, max_size=3).map(lambda w: w.replace(".", r"\.")), min_size=2, max_size=3
)


def _group(parts: list[str], kind: str) -> str:
    body = "".join(parts)
    return {"capture": f"({body})", "plain": f"(?:{body})", "optional": f"(?:{body})?"}[kind]


group = st.builds(_group, st.lists(atom, min_size=1, max_size=3), st.sampled_from(["capture", "plain", "optional"]))
branch = words.map(lambda options: "(" + "|".join(options) + ")")
pattern = st.lists(st.one_of(atom, atom, group, branch), min_size=1, max_size=6).map(lambda parts: "^" + "".join(parts))


@settings(max_examples=400, deadline=None)
@given(pattern, st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=8))
def test_the_fast_lane_answers_as_re2_does(expression: str, texts: list[str]) -> None:
    assume(one_pass(expression))
    regex = LinearRegex(expression)
    assert regex._fast is not None
    for text in texts:
        for anchor in (_UNANCHORED, _ANCHOR_START):
            assert regex._run(anchor, text) == regex._run_re2(anchor, text), (expression, text)
