"""The differential test of the json-file reader (`logpipe follow` reading a container's log file directly), which
`logpipe replay` does not run: the same json-file logs read by `json_file_lines` in the two paths of
test_fast_path.py, which must yield the same lines, one for one.

- reference: pure Python from source, so the Python decoder (tests/source_only.py does not load the C one);
- fast: as installed, so the C decoder (logpipe/sources/docker/_jsonfile.c) where `make install` built it.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.differential import corpora
from tests.differential.test_fast_path import FAST, IN_CI, REFERENCE, TIMEOUT, CodePath, first_difference

ROOT = corpora.ROOT
SINCE = corpora.BASE_NS + 5_000  # some records of each corpus are before it
CORPORA = ["generated/nest-json-file", "property/parser-lines", "property/json-file-records"]
READ = """
import sys, threading
from logpipe.sources.docker import jsonfile
print("decoder", "python" if jsonfile.decode_buffer is jsonfile.decode_buffer_python else "compiled")
for since in (0, {since}):
    for item in jsonfile.json_file_lines({path!r}, since, False, lambda: False, threading.Event()):
        print(repr(item))
"""


def _records(path: Path) -> Path:
    """Records drawn from the decoder's property test (dockerd's shape mostly; escapes, odd times, other shapes,
    torn and garbage records), the same on every run, with times around SINCE."""
    from tests.unit.sources.test_jsonfile_decoder import records

    path.write_bytes(b"".join(record + b"\n" for record in corpora.drawn(records(), 3_000)))
    return path


def build(directory: Path) -> dict[str, Path]:
    log = directory / "nest-json-file.log"
    corpora.write_json_file_log(log, corpora.GENERATED_LINES)
    return {
        "generated/nest-json-file": log,
        "property/parser-lines": corpora._parser_lines(directory / "parser-lines.log"),
        "property/json-file-records": _records(directory / "json-file-records.log"),
    }


def read(path: CodePath, log: Path) -> tuple[str, list[str]]:
    """(the decoder this path used, the lines it read) for `log`, from 0 and from SINCE."""
    code = path.prelude + "\n" + READ.format(since=SINCE, path=str(log))
    done = subprocess.run(
        [path.python[0], "-c", code], cwd=ROOT, env=path.environment, capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{path.name}: {done.stderr.decode()[-2000:]}"
    first, *lines = done.stdout.decode().splitlines()
    return first.split()[1], lines


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("json-file-corpora"))


@pytest.mark.parametrize("name", CORPORA)
def test_the_fast_path_reads_a_json_file_log_as_the_reference_does(name: str, logs: dict[str, Path]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        reference_run, fast_run = pool.submit(read, REFERENCE, logs[name]), pool.submit(read, FAST, logs[name])
        (reference_decoder, reference), (_, fast) = reference_run.result(), fast_run.result()
    assert reference_decoder == "python"
    found = first_difference(reference, fast)
    assert found is None, f"{name}: line {found[0]}:\n  reference: {found[1][:600]}\n  fast:      {found[2][:600]}"
    assert len(reference) > 100, f"{name}: hardly any lines read"


def test_the_fast_path_reads_json_file_logs_with_the_compiled_decoder(logs: dict[str, Path]) -> None:
    """Without this, an install that did not build the C decoder would pass the comparison above with two Python
    decoders."""
    decoder, _ = read(FAST, logs["generated/nest-json-file"])
    if decoder != "compiled":
        message = "the C decoder is not built (a pure install: LOGPIPE_PURE_PYTHON=1); `make install` builds it"
        if IN_CI:
            pytest.fail(f"CI's `make test` runs on a compiled install, but: {message}")
        pytest.skip(message)
