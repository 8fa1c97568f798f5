"""The state store: a private directory, one process at a time, clear errors, pending counted without a scan,
delivered rows pruned."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from logpipe.cli import main
from logpipe.errors import StateError
from logpipe.state.store import StateStore


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_a_fresh_state_directory_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    store = StateStore(state_dir / "state.sqlite")
    store.outbox.put("a1", {"rule": "x"}, ["webhook"])  # writes: the WAL and shared-memory files exist now
    assert mode(state_dir) == "0o700"
    files = sorted(p.name for p in state_dir.iterdir())
    assert files == ["state.lock", "state.sqlite", "state.sqlite-shm", "state.sqlite-wal"]
    assert {name: mode(state_dir / name) for name in files} == dict.fromkeys(files, "0o600")
    store.close()


def test_events_out_is_created_0600(tmp_path: Path) -> None:
    from logpipe.cli.options import PrivateAppendFile

    opened = PrivateAppendFile().convert(str(tmp_path / "events.jsonl"), None, None)
    opened.close()
    assert mode(tmp_path / "events.jsonl") == "0o600"


def test_a_second_process_on_the_same_state_directory_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from logpipe.state import StateStore; "
            f"StateStore(Path({str(tmp_path / 'state.sqlite')!r}))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert other.returncode != 0
    assert "StateError: another logpipe process (pid " in other.stderr
    assert f"is using the state directory {tmp_path}; stop it, or give this one its own state_dir" in other.stderr
    store.close()
    StateStore(tmp_path / "state.sqlite").close()  # released on close


def test_the_cli_refuses_a_state_directory_in_use_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\nchannels: {ops: {url: 'http://127.0.0.1:9/x', kind: webhook}}\n")
    store = StateStore(tmp_path / "state" / "state.sqlite")
    result = CliRunner().invoke(main, ["replay", "--config", str(config), str(config)])
    store.close()
    assert result.exit_code == 1
    assert result.output.startswith("Error: another logpipe process (pid ")
    assert "Traceback" not in result.output


def test_a_corrupt_state_file_is_a_one_line_error_saying_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\nchannels: {ops: {url: 'http://127.0.0.1:9/x', kind: webhook}}\n")
    result = CliRunner().invoke(main, ["replay", "--config", str(config), str(config)])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"Error: the state file {tmp_path / 'state' / 'state.sqlite'} is corrupt (")
    assert "move it aside (mv " in line


def test_a_truncated_state_file_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    for n in range(200):
        store.outbox.put(f"id{n}", {"rule": "x", "pad": "y" * 500}, ["webhook"])
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StateError, match="is corrupt"):
        StateStore(path).deliveries()


def test_a_malformed_sentry_dsn_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text("sentry:\n  dsn: 'sentry.example.com/42'\n")
    result = CliRunner().invoke(main, ["replay", "--config", str(config), str(config)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {config}:2: sentry.dsn: not a Sentry DSN (Unsupported scheme ''); "
        "expected https://PUBLIC_KEY@HOST/PROJECT_ID, from the project's settings\n"
    )


def test_pending_is_counted_as_rows_change(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    store.outbox.put_many([("a", {}, ["s1", "s2"]), ("b", {}, ["s1"])], now=0)
    store.outbox.put("a", {}, ["s1", "s2"])  # already stored: not counted again
    store.outbox.delivered("a", "s1")
    store.outbox.delivered("a", "s1")  # a repeat changes nothing
    store.outbox.failed("b", "s1", "gone", None)
    assert store.outbox.pending() == 1
    store.close()
    assert StateStore(tmp_path / "state.sqlite").outbox.pending() == 1  # counted from the file on open


def test_pending_count_uses_an_index(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    store.close()
    db = sqlite3.connect(tmp_path / "state.sqlite")
    plan = db.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchall()
    assert "USING COVERING INDEX deliveries_state" in str(plan)


def test_delivered_rows_past_the_retention_are_pruned_dead_and_pending_kept(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    store.outbox.put_many([("old", {}, ["s"]), ("new", {}, ["s"]), ("dead", {}, ["s"]), ("waiting", {}, ["s"])], now=0)
    store.outbox.delivered("old", "s", now=1_000)
    store.outbox.delivered("new", "s", now=9_000)
    store.outbox.failed("dead", "s", "refused", None)
    assert store.outbox.prune(older_than=5_000, now=10_000) == 1
    assert sorted((row["alert_id"], row["state"]) for row in store.outbox.deliveries()) == [
        ("dead", "dead"),
        ("new", "delivered"),
        ("waiting", "pending"),
    ]
    store.close()
    kept = sqlite3.connect(tmp_path / "state.sqlite").execute("SELECT id FROM alerts ORDER BY id").fetchall()
    assert [row[0] for row in kept] == ["dead", "new", "waiting"]


def test_outbox_prune_command(tmp_path: Path) -> None:
    config = tmp_path / "logpipe.yml"
    config.write_text("state_dir: state\noutbox: {retention: 1s}\n")
    store = StateStore(tmp_path / "state" / "state.sqlite")
    store.outbox.put("old", {}, ["s"], now=0)
    store.outbox.delivered("old", "s", now=1)
    store.close()
    result = CliRunner().invoke(main, ["outbox", "--config", str(config), "--prune"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "pruned 1 delivered rows older than 1 s"
