"""Route normalisation by one regex pass gives what the segment-by-segment definition gives, for any path."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from logpipe.engine.metrics.paths import PathNormaliser

PACK = {
    ":id": r"[a-z]{2,8}_[A-Za-z0-9]+|\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}"
}
SEVERAL = {":n": r"\d+", ":slug": r"[a-z]+-[a-z-]+", ":any": r".+x"}  # `.+x` can match across slashes
ANCHORED = {":n": r"^\d+$"}


def by_definition(placeholders: dict[str, str], path: str) -> str:
    """The definition: the query and fragment dropped; each whole segment that a placeholder's regex matches (the
    first such placeholder) replaced by it."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")
    for position, segment in enumerate(segments):
        for placeholder, regex in placeholders.items():
            if segment and re.fullmatch(regex, segment):
                segments[position] = placeholder
                break
    return "/".join(segments)


segment = st.one_of(
    st.sampled_from(["api", "v1", "clips", "clp_8f2k", "42", "", "a-b", "my-clip-x", "x", "0xdeadbeefdeadbeef"]),
    st.text(alphabet="abcx_-0123456789", max_size=12),
    st.uuids().map(str),
)
paths = st.tuples(st.booleans(), st.lists(segment, max_size=7), st.sampled_from(["", "?page=2", "#top"])).map(
    lambda parts: ("/" if parts[0] else "") + "/".join(parts[1]) + parts[2]
)


@settings(max_examples=600)
@given(paths)
def test_one_pass_equals_the_segment_definition(path: str) -> None:
    for placeholders in (PACK, SEVERAL, ANCHORED):
        assert PathNormaliser(placeholders).normalise(path) == by_definition(placeholders, path), placeholders


def test_a_regex_that_would_span_segments_still_replaces_whole_segments_only() -> None:
    assert PathNormaliser(SEVERAL).normalise("/ax/bx/c/12/my-slug") == "/:any/:any/c/:n/:slug"
