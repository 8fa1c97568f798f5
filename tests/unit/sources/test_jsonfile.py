"""The json-file reader on files laid out as the daemon lays them out: order across rotations, `since`, lines
still being written, a file cut back in place, and the end of a stopped container's log."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

from logpipe.sources.docker.jsonfile import END, TORN, json_file_lines, readable_log_file, rotated_files

BASE = 1_796_000_000_000_000_000  # ns


def entry(text: str, time_ns: int, stream: str = "stdout", newline: bool = True) -> bytes:
    seconds, nanos = divmod(time_ns, 10**9)
    from time import gmtime, strftime

    stamp = f"{strftime('%Y-%m-%dT%H:%M:%S', gmtime(seconds))}.{nanos:09d}Z"
    record = {"log": text + ("\n" if newline else ""), "stream": stream, "time": stamp}
    return json.dumps(record).encode() + b"\n"


def lines(path: Path, since: int = 0) -> list[tuple[int, int, bytes, bool]]:
    read = json_file_lines(str(path), since, follow=False, running=lambda: False, stopping=threading.Event())
    return [item for item in read if item != END]


def test_rotated_files_are_read_oldest_first_then_the_live_one(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    (tmp_path / "c-json.log.2").write_bytes(entry("first", BASE))
    with gzip.open(tmp_path / "c-json.log.3.gz", "wb") as oldest:
        oldest.write(entry("zeroth", BASE - 1))
    (tmp_path / "c-json.log.1").write_bytes(entry("second", BASE + 1))
    (tmp_path / "c-json.log.notanumber").write_bytes(entry("ignored", BASE + 2))
    log.write_bytes(entry("third", BASE + 3, "stderr"))
    assert [name.rsplit("/", 1)[1] for name in rotated_files(str(log))] == [
        "c-json.log.3.gz",
        "c-json.log.2",
        "c-json.log.1",
    ]
    assert lines(log) == [
        (1, BASE - 1, b"zeroth", False),
        (1, BASE, b"first", False),
        (1, BASE + 1, b"second", False),
        (2, BASE + 3, b"third", False),
    ]


def test_since_is_inclusive_to_the_nanosecond(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(b"".join(entry(f"line {i}", BASE + i) for i in range(5)))
    assert [text for _, _, text, _ in lines(log, since=BASE + 3)] == [b"line 3", b"line 4"]


def test_a_line_still_being_written_waits_for_its_end(tmp_path: Path) -> None:
    """The daemon writes a record in one write, but a reader can land between its bytes: the half-written record
    is left for the next read, which gets it whole."""
    log = tmp_path / "c-json.log"
    whole = entry("complete", BASE + 1)
    log.write_bytes(entry("before", BASE) + whole[:10])
    assert [text for _, _, text, _ in lines(log)] == [b"before"]
    with log.open("ab") as file:
        file.write(whole[10:])
    assert [text for _, _, text, _ in lines(log)] == [b"before", b"complete"]


def test_a_chunk_of_a_long_line_is_partial(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("x" * 100, BASE, newline=False) + entry("end", BASE))
    assert lines(log) == [(1, BASE, b"x" * 100, True), (1, BASE, b"end", False)]


def test_a_torn_record_is_skipped_said_and_the_next_ones_are_read(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("kept", BASE) + b'{"log":"torn by a cra\n' + entry("after", BASE + 1))
    assert [text for _, _, text, _ in lines(log)] == [b"kept", b"torn json-file record", b"after"]
    assert lines(log)[1] == TORN  # the reader counts it (logpipe_inputs_skipped_total), never silently


def test_following_reads_lines_appended_and_after_a_cut_back_in_place(tmp_path: Path) -> None:
    """max-file 1: the daemon cuts the file back to zero and writes on; the reader starts again at the top."""
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("one", BASE) + entry("two", BASE + 1))
    stopping = threading.Event()
    running = threading.Event()
    running.set()
    read = json_file_lines(str(log), 0, True, running.is_set, stopping)
    got: list[bytes] = []

    def take_until(count: int) -> None:
        for item in read:
            if item != END:
                got.append(item[2])
            if len(got) >= count:
                return

    take_until(2)
    log.write_bytes(entry("three", BASE + 2))  # cut back, and a shorter file than what was read
    take_until(3)
    with log.open("ab") as file:
        file.write(entry("four", BASE + 3))
    take_until(4)
    running.clear()  # the container stopped: the reader reads what is left and ends
    assert [item[2] for item in read if item != END] == []
    assert got == [b"one", b"two", b"three", b"four"]


def test_a_rotation_while_following_finishes_the_old_file_first(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(entry("a", BASE))
    stopping = threading.Event()
    running = threading.Event()
    running.set()
    read = json_file_lines(str(log), 0, True, running.is_set, stopping)
    assert next(read)[2] == b"a"
    with log.open("ab") as file:
        file.write(entry("b", BASE + 1))  # written just before the rotation: must not be lost
    log.rename(tmp_path / "c-json.log.1")
    log.write_bytes(entry("c", BASE + 2))
    got = []
    for item in read:
        if item != END:
            got.append(item[2])
        if len(got) == 2:
            break
    assert got == [b"b", b"c"]
    stopping.set()


def test_only_a_readable_json_file_log_is_read_directly(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    log.write_bytes(b"")
    info = {"HostConfig": {"LogConfig": {"Type": "json-file"}}, "LogPath": str(log)}
    assert readable_log_file(info) == str(log)
    assert readable_log_file({**info, "HostConfig": {"LogConfig": {"Type": "journald"}}}) is None
    assert readable_log_file({**info, "LogPath": ""}) is None
    assert readable_log_file({**info, "LogPath": str(tmp_path / "missing.log")}) is None
