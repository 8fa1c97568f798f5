"""Short fuzz runs of every target (tests/fuzz/targets.py) on each `make test`; bench/fuzz.py runs a million."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import exits, targets

LOG_PIECES = [
    b"\n", b"\r", b"\r\n", b"\x00", b"{", b"}", b'{"level":50,"msg":"m"}', b'{"log":"x\\n","stream":"stderr"}',
    b"2026-11-27T09:00:00.000000001Z ", b"[Nest] 1  - 11/27/2026, 9:00:00 AM   ERROR [X] ", b"    at f (a.js:1:1)",
    b"Error: boom", b"Traceback (most recent call last):", b"level=error msg=x", b"\x1b[31m", b"\xff\xfe", b"x" * 250,
]  # fmt: skip
# what a hostile or unlucky log puts in a line, for the target that follows events to every exit
HOSTILE_PIECES = [
    b'{"time":-99999999999999,"msg":"', b'{"time":123456789012345678901234567890,"level":"error","msg":"',
    b'{"timestamp":1e308,"msg":"', b'{"ts":"0000-01-01T00:00:00Z","msg":"', b'"}', b'","user":"<!channel>"}',
    b"time=1234567890123456789012345 level=error msg=", b'{"a":' * 70, b"}" * 70, b'{"l":' + b"[" * 300,
    b"]" * 300 + b"}", b"<!channel> <https://evil.example|https://bank.example> &amp; ", b"\\u0000", b"\\ud800",
    b'","err":{"type":"', b'"stack":"Error: x\\n    at f (a.js:1:1)"', b"9999-12-31T23:59:59.999999999Z ",
    b"0001-01-01T00:00:00Z ", b"\x1b]8;;javascript:alert(1)\x1b\\", b"password=hunter2 sk_live_abcdefghijklmnop",
]  # fmt: skip
TEMPLATE_PIECES = [
    "{{ ", " }}", "{% for i in range(", ") %}", "{% endfor %}", "{% if ", " %}", "{% endif %}", "rule", "title",
    "samples", "message", "event.fields", "|length", "|tojson", "|center(", "|format(", " * ", " ** ", " % ", " ~ ",
    " + ", "10", "99999", "'x'", "(", ")", "[0]", ".upper()", "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}",
    "1/0", "loop.index", "{% set ns = namespace(s='ab') %}", "ns.s", "{% raw %}", "{{ lipsum(", "cycler(",
]  # fmt: skip
YAML_PIECES = [
    "rules:\n", "  - id: r\n", "    title: t\n", "    runbook: x\n", "    match: {message: {contains: boom}}\n",
    "    examples: {match: [boom]}\n", "    kind: threshold\n", "    window: 5m\n", "    count: 3\n", "    regex: '",
    "(a|a)*b", "(?=x)", "\\1", "'\n", "&a [1, 2]\n", "*a\n", "  - *a\n", "extract:\n", "    template: t\n",
    "    match: {text: {regex: '(?P<n>\\d+)'}}\n", "    group_by: [n]\n", "{", "}", "[", "]", ": ", "- ", "\t", "\x00",
    "state_dir: s\n", "channels: {a: {url: 'https://x', kind: webhook}}\n", "routes: {critical: [a, b]}\n",
    "sentry: {dsn: 'x'}\n", "${UNSET_FUZZ_VAR}", "${HOME:-d}", "rules: [nowhere]\n", "outbox: {retention: 1s}\n",
]  # fmt: skip

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

log_bytes = st.one_of(st.binary(max_size=600), st.lists(st.sampled_from(LOG_PIECES), max_size=30).map(b"".join))


@FAST
@given(log_bytes)
def test_saved_logs_parse_and_every_line_is_accounted_for(data: bytes) -> None:
    targets.saved_log_lines_accounted(data)


@FAST
@given(st.lists(st.sampled_from(LOG_PIECES + HOSTILE_PIECES), max_size=30).map(b"".join))
def test_every_event_and_notification_reaches_every_exit(data: bytes) -> None:
    exits.events_reach_every_exit(data)


@FAST
@given(
    st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.binary(max_size=100)), max_size=20),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_docker_frames_cut_anywhere_decode_to_what_was_sent(payloads: list[tuple[int, bytes]], cuts: list[int]) -> None:
    targets.docker_frames_roundtrip(payloads, cuts)


@FAST
@given(st.binary(max_size=300))
def test_any_chunked_body_decodes_or_is_refused(data: bytes) -> None:
    targets.chunked_body_decodes_or_refuses(data)


@FAST
@given(st.text(max_size=500))
def test_the_redactor_takes_any_text(text: str) -> None:
    targets.redactor_total(text)


@SLOW
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=25).map("".join))
def test_any_rule_file_loads_or_is_refused_with_its_location(text: str) -> None:
    targets.rule_file_loads_or_refuses(text)


@SLOW
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=15).map("".join))
def test_any_config_loads_or_is_refused_with_its_location(text: str) -> None:
    targets.config_loads_or_refuses(text)


@FAST
@given(st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=20).map("".join))
def test_any_template_renders_or_is_a_template_error(source: str) -> None:
    targets.template_renders_or_refuses(source)
