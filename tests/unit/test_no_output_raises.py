"""No output path raises on an event (issue 28, finding 1): whatever value the parsers let through, every way an
event or a notification leaves logpipe writes it. A log's own time logpipe cannot hold (a 30-digit epoch, 1e308,
year 0) is dropped and the event flagged `time_out_of_range`, the Docker time kept; fields nested deeper than any
JSON writer takes are cut and flagged `fields_too_deep`."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.event import Event, Origin, RawLine
from logpipe.parsers import Assembler
from logpipe.pipeline import parse_lines
from logpipe.redact import Redactor
from logpipe.sources.file import read_lines
from tests.unit.agent.test_follower import NAME, ORIGIN, follower, lines, written
from tests.unit.engine.helpers import SECOND, T0

MAX_FIELD_DEPTH = 64  # event.MAX_FIELD_DEPTH (named here so this file also runs, and fails, on code without it)
DOCKER_TIME = "2026-11-27T09:00:01.000000000Z"
UNHOLDABLE_TIMES = [
    '{"time":-99999999999999,"level":"error","msg":"payment failed: negative epoch"}',
    '{"time":123456789012345678901234567890,"level":"error","msg":"payment failed: 30 digits"}',
    '{"timestamp":1e308,"level":"error","msg":"payment failed: 1e308"}',
    '{"time":"1e400","level":"error","msg":"payment failed: infinity"}',
    'time=1234567890123456789012345 level=error msg="payment failed: logfmt"',
    '{"time":"0000-01-01T00:00:00Z","level":"error","msg":"payment failed: year 0"}',
    '{"time":"9999-12-31T23:59:59-23:59","level":"error","msg":"payment failed: past 9999"}',
]
RULES = """
rules:
  - id: payment-failed
    title: Payment failed
    runbook: Look at the provider's dashboard.
    severity: critical
    match: {message: {contains: "payment failed"}}
    examples: {match: ['payment failed: card_declined']}
"""


def one_event(raw: RawLine) -> Event:
    assembler = Assembler()
    (event,) = [*assembler.feed(raw, arrival=T0 + 5 * SECOND), *assembler.flush()]
    return event


def deep_line(depth: int) -> str:
    return '{"level":"error","msg":"payment failed: deep","a":' + '{"a":' * depth + "1" + "}" * depth + "}"


@pytest.mark.parametrize("line", UNHOLDABLE_TIMES)
def test_no_output_raises_a_time_out_of_range_is_dropped_flagged_and_docker_time_kept(line: str) -> None:
    raw = RawLine(line.encode(), Origin("docker", "api", "stdout"), T0 + SECOND)
    event = one_event(raw)
    assert (event.time, event.docker_time, event.log_time) == (T0 + SECOND, T0 + SECOND, None)
    assert "time_out_of_range" in event.flags
    written = orjson.loads(Redactor().event_json(event))
    assert (written["time"], written["docker_time"], "log_time" in written) == (DOCKER_TIME, DOCKER_TIME, False)
    plain = one_event(raw._replace(docker_time=None))
    assert plain.time == T0 + 5 * SECOND  # no Docker time: arrival
    assert orjson.loads(plain.to_json())["flags"] == ["time_out_of_range"]


@pytest.mark.parametrize("command", ["parse", "replay", "report"])
def test_no_output_raises_parse_replay_and_report_take_every_unholdable_time(command: str, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("\n".join([*UNHOLDABLE_TIMES, deep_line(300)]) + "\n")
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    args = {
        "parse": ["parse", str(log)],
        "replay": ["replay", "--rules", str(rules), "--format", "jsonl", "--events-out", str(tmp_path / "ev.jsonl"),
                   "--wait", "0", str(log)],
        "report": ["report", "--rules", str(rules), "-o", str(tmp_path / "r.html"), str(log)],
    }[command]  # fmt: skip
    result = CliRunner().invoke(main, args, env={"LOGPIPE_STATE_DIR": str(tmp_path / "state")})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    if command == "replay":
        events = [orjson.loads(text) for text in (tmp_path / "ev.jsonl").read_bytes().splitlines()]
        assert [e["flags"] for e in events] == [["time_out_of_range"]] * len(UNHOLDABLE_TIMES) + [["fields_too_deep"]]
        alerts = [orjson.loads(text) for text in result.stdout.splitlines() if text.startswith("{")]
        assert [(a["status"], a["total"]) for a in alerts] == [("firing", 1), ("resolved", len(UNHOLDABLE_TIMES) + 1)]


def test_no_output_raises_fields_nested_past_any_json_writer_are_cut_at_max_depth() -> None:
    (event,) = parse_lines(read_lines(io.BytesIO(deep_line(1000).encode() + b"\n"), Origin("file", "a.log")))
    assert event.flags == ("fields_too_deep",)
    depth, value = 0, event.fields
    while isinstance(value, dict):
        depth, value = depth + 1, value.get("a")
    assert depth == MAX_FIELD_DEPTH
    assert orjson.loads(event.to_json())["raw"] == deep_line(1000)  # the whole line stays in raw


def test_no_output_raises_the_follower_pages_a_line_with_an_unholdable_time(tmp_path: Path) -> None:
    """`logpipe follow` with --events-out and a rule that matches: the page is made and committed, the event
    written; before, the follower died here and its page was lost across the restart."""
    out = io.BytesIO()
    made, shown, store = follower(tmp_path, out)
    raws = [RawLine(text.encode(), ORIGIN, T0 + (n + 1) * SECOND) for n, text in enumerate(UNHOLDABLE_TIMES)]
    made.handle(*lines(NAME, *raws, RawLine(deep_line(400).encode(), ORIGIN, T0 + 20 * SECOND)))
    made.finish()
    assert len(written(out)) == len(UNHOLDABLE_TIMES) + 1
    assert [n.kind for n in shown][:1] == ["firing"]
    assert [record["rule"] for record in store.progress.incidents()] == ["payment-failed"]
    assert all(orjson.loads(orjson.dumps(n.to_dict()))["time"].startswith("2026-11-27") for n in shown)


@pytest.mark.parametrize(
    "line",
    [
        "level=error msg=x n=12345678901234567890123",
        "[Nest] 123456789012345678901234  - 11/27/2026, 9:05:02 AM   ERROR [HTTP] x",
    ],
)
def test_no_output_raises_an_integer_past_64_bits_is_kept_as_its_digits(line: str) -> None:
    (event,) = parse_lines(read_lines(io.BytesIO(line.encode() + b"\n"), Origin("file", "a.log")))
    written = orjson.loads(Redactor().event_json(event))
    assert "12345678901234567890123" in str(written["fields"])
