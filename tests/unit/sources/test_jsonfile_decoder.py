"""The C json-file decoder (logpipe/sources/docker/_jsonfile.c) against the Python one it must equal, FileLine for
FileLine: drawn records (escapes, any unicode, partial chunks, stderr, odd times, other key orders, torn and garbage
records, `since` around the records' times), hand-picked edge cases, and the differential test's json-file corpora.

The C decoder is built by a compiling install (`make install`); on a pure one (LOGPIPE_PURE_PYTHON=1) these tests
skip with the reason, and fail in CI, where `make test` compiles.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logpipe.sources.docker import jsonfile
from logpipe.sources.docker.jsonfile import TORN, FileLine, decode_buffer_python, decode_record

IN_CI = os.environ.get("CI") == "true"
BASE = 1_795_770_000_000_000_000  # 2026-11-27T09:00:00Z


def _compiled_module() -> ModuleType:
    try:
        from logpipe.sources.docker import _jsonfile
    except ImportError:
        message = "the C decoder is not built (a pure install: LOGPIPE_PURE_PYTHON=1); `make install` builds it"
        if IN_CI:
            pytest.fail(f"CI's `make test` runs on a compiled install, but: {message}")
        pytest.skip(message)
    return _jsonfile


@pytest.fixture(scope="module")
def compiled() -> Callable[[bytes, int, int, Callable[[bytes, int], FileLine | None]], list[FileLine]]:
    return _compiled_module().decode_buffer  # type: ignore[no-any-return]


def both(compiled: Callable[..., list[FileLine]], buffer: bytes, since: int = 0) -> list[FileLine]:
    """The C decoder's lines for every record of `buffer` (its last newline excluded, as _read_to_end hands it
    over), after checking they are the Python decoder's."""
    end = buffer.rfind(b"\n")
    end = len(buffer) if end < 0 else end
    expected = decode_buffer_python(buffer, end, since, decode_record)
    assert compiled(buffer, end, since, decode_record) == expected
    return expected


def stamp(ns: int, digits: int = 9) -> str:
    import time

    seconds, fraction = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return text + (f".{fraction:09d}"[: digits + 1] if digits else "") + "Z"


# ---- drawn records ----------------------------------------------------------------------------------------------

dockerd_times = st.builds(  # near BASE (around `since`), or any time of the years the C decoder reads itself
    stamp,
    st.integers(BASE - 10**12, BASE + 10**12) | st.integers(-2_208_988_800 * 10**9, 7_289_654_399 * 10**9),
    st.integers(0, 9),  # RFC3339Nano drops the fraction's trailing zeros
)
odd_times = st.one_of(
    st.sampled_from(
        [
            "2026-11-27T09:00:00.123456789Z",
            "2026-11-27T09:00:00.1234567891Z",  # finer than ns
            "2026-11-27T09:00:00.Z",
            "2026-11-27T09:00:00,5Z",
            "2026-11-27 09:00:00.5Z",
            "2026-11-27T09:00:00.5z",
            "2026-11-27T09:00:00.5+01:00",
            "2026-11-27T09:00:00.5-0130",
            "2026-11-27T09:00:00.5UTC",
            "2026-11-27T09:00:00.5",
            "2026-02-31T23:59:60.999999999Z",  # runs into March, as calendar.timegm counts
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "0000-01-01T00:00:00Z",
            "1899-12-31T23:59:59.999999999Z",
            "1900-01-01T00:00:00Z",
            "2200-12-31T23:59:59.999999999Z",
            "2201-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-11-27T09:00:00.5Z\n",
            "",
            "not a time",
        ]
    ),
    st.text(max_size=32),
)
odd_streams = st.sampled_from(["", "STDOUT", "stdin", "std", "stdoutx"])
texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7fé€😀\u2028 ax'), max_size=30),
)


@st.composite
def records(draw: st.DrawFn) -> bytes:
    text = draw(texts) + draw(st.sampled_from(["\n", "", "\n\n"]))
    # mostly what dockerd writes (the C decoder's own cases), then odd fields, other shapes, damage
    time = draw(dockerd_times) if draw(st.integers(0, 3)) else draw(odd_times)
    stream = draw(st.sampled_from(["stdout", "stderr"])) if draw(st.integers(0, 5)) else draw(odd_streams)
    fields: dict[str, object] = {"log": text, "stream": stream, "time": time}
    if draw(st.integers(0, 9)) == 0:  # what a record can look like that dockerd did not write
        fields = draw(
            st.sampled_from(
                [
                    {"stream": fields["stream"], "log": text, "time": fields["time"]},
                    {"log": text, "stream": fields["stream"], "attrs": {"tag": "api"}, "time": fields["time"]},
                    {"log": text, "time": fields["time"]},
                    {"log": text, "stream": fields["stream"]},
                    {"log": 5, "stream": "stdout", "time": fields["time"]},
                    {"log": text, "stream": ["stdout"], "time": fields["time"]},
                    {"log": text, "stream": "stdout", "time": 1_795_770_000},
                ]
            )
        )
    encoded = draw(
        st.sampled_from(
            [
                orjson.dumps(fields),  # as dockerd: only what JSON must escape, non-ASCII as UTF-8
                orjson.dumps(fields),
                orjson.dumps(fields),
                json.dumps(fields, separators=(",", ":")).encode(),  # every non-ASCII as \\uXXXX (and pairs)
                json.dumps(fields).encode(),  # spaces after the separators
                orjson.dumps(fields).replace(b"/", b"\\/"),
                orjson.dumps(fields).replace(b"\\n", b"\\u000A"),
            ]
        )
    )
    damage = draw(st.integers(0, 19))
    if damage == 0 and encoded:  # torn: a write cut short
        encoded = encoded[: draw(st.integers(0, len(encoded) - 1))]
    elif damage == 1 and encoded:  # a byte changed
        at = draw(st.integers(0, len(encoded) - 1))
        encoded = encoded[:at] + bytes([draw(st.integers(0, 255))]) + encoded[at + 1 :]
    elif damage == 2:  # raw bytes
        encoded = draw(st.binary(max_size=60))
    return encoded.replace(b"\n", b"")  # a record is one line


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(records(), max_size=12),
    st.integers(BASE - 2 * 10**12, BASE + 2 * 10**12) | st.sampled_from([0, -(2**70), 2**70]),
    st.booleans(),
)
def test_the_c_decoder_gives_the_python_decoders_lines_for_any_records(
    compiled: Callable[..., list[FileLine]], lines: list[bytes], since: int, whole: bool
) -> None:
    buffer = b"\n".join(lines) + (b"\n" if whole else b"")
    both(compiled, buffer, since)


# ---- hand-picked cases ------------------------------------------------------------------------------------------

STAMP = "2026-11-27T09:00:00.000000001Z"


def record(log: bytes, stream: bytes = b"stdout", time: str = STAMP) -> bytes:
    return b'{"log":"' + log + b'","stream":"' + stream + b'","time":"' + time.encode() + b'"}\n'


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (rb"plain\n", (1, BASE + 1, b"plain", False)),
        (rb"\"\\\/\b\f\r\t\u0000\u001f\n", (1, BASE + 1, b'"\\/\b\f\r\t\x00\x1f', False)),
        (rb"\u00e9\u00C9\u20ac\ud83d\ude00\uD83D\uDE00\n", (1, BASE + 1, "éÉ€😀😀".encode(), False)),
        ("é€😀 \x7f\n".encode().replace(b"\n", rb"\n"), (1, BASE + 1, "é€😀 \x7f".encode(), False)),
        (rb"chunk of a long line", (1, BASE + 1, b"chunk of a long line", True)),
        (b"", (1, BASE + 1, b"", True)),
        (rb"\n", (1, BASE + 1, b"", False)),
        (rb"\u000a", (1, BASE + 1, b"", False)),
        (rb"\n\n", (1, BASE + 1, b"\n", False)),
        # not JSON: torn, as the Python decoder says
        (rb"\ud800", TORN),  # a lone high surrogate
        (rb"\ud800\u0041", TORN),
        (rb"\udc00", TORN),  # a low surrogate first
        (rb"\x", TORN),
        (rb"\u12g4", TORN),
        (b"\x01", TORN),  # a control character unescaped
        (b"\t", TORN),
        (b"\xc0\x80", TORN),  # an overlong NUL
        (b"\xed\xa0\x80", TORN),  # a surrogate as UTF-8
        (b"\xf4\x90\x80\x80", TORN),  # past U+10FFFF
        (b"\xe2\x82", TORN),  # a sequence cut short
        (b"\x80", TORN),
        (b"\\", TORN),
    ],
)
def test_a_log_string_decodes_as_orjson_decodes_it(
    compiled: Callable[..., list[FileLine]], log: bytes, expected: FileLine
) -> None:
    assert both(compiled, record(log)) == [expected]


@pytest.mark.parametrize(
    ("time", "expected_ns"),
    [
        ("2026-11-27T09:00:00.000000001Z", BASE + 1),
        ("2026-11-27T09:00:00.1Z", BASE + 100_000_000),
        ("2026-11-27T09:00:00.12345Z", BASE + 123_450_000),
        ("2026-11-27T09:00:00Z", BASE),
        ("2026-11-27T09:00:00.9999999999Z", BASE + 999_999_999),  # finer than ns: dropped, by Python
        ("2026-11-27T10:00:00.5+01:00", BASE + 500_000_000),  # by Python
        ("2026-11-26T33:00:00Z", None),  # no such hour: the record is dropped
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_a_time_is_read_as_parse_docker_time_reads_it(
    compiled: Callable[..., list[FileLine]], time: str, expected_ns: int | None
) -> None:
    got = both(compiled, record(rb"x\n", time=time), since=0)
    assert [line[1] for line in got] == ([] if expected_ns is None else [expected_ns])


def test_every_day_that_starts_a_month_or_ends_one_from_1900_to_2200_reads_as_in_python(
    compiled: Callable[..., list[FileLine]],
) -> None:
    """Leap years (1900 and 2100 are none, 2000 is one), month lengths, and days past a month's end (Feb 30: as
    calendar.timegm counts them), to the nanosecond."""
    times = [
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:59:59.999999999Z"
        for year in range(1900, 2201)
        for month in range(1, 13)
        for day, hour in ((1, 0), (28, 23), (29, 12), (30, 1), (31, 23))
    ]
    buffer = b"".join(record(rb"x\n", time=time) for time in times)
    decoded = both(compiled, buffer, since=-(2**63))
    assert len(decoded) == len(times)


def test_since_keeps_a_record_of_that_very_nanosecond_and_drops_the_one_before(
    compiled: Callable[..., list[FileLine]],
) -> None:
    buffer = (
        record(b"before", time="2026-11-27T09:00:00Z") + record(b"at") + record(b"after", b"stderr", stamp(BASE + 2))
    )
    assert both(compiled, buffer, since=BASE + 1) == [(1, BASE + 1, b"at", True), (2, BASE + 2, b"after", True)]


@pytest.mark.parametrize(
    "attrs",
    [
        b'{"com.example.team":"api","env":"prod"}',
        b"{}",
        b'{"k\\u00e9\\"y":"v\\n\\ud83d\\ude00"}',
        b'{"k":"v","k":"w"}',
        b'{"k":5}',  # not dockerd's: left to Python, which reads past it too
        b'{"k":{"nested":"v"}}',
        b'{"k":"v",}',  # not JSON: torn
        b'{"k" :"v"}',
        b'{"k":"\\ud800"}',
    ],
)
def test_attrs_from_log_opts_are_read_past(compiled: Callable[..., list[FileLine]], attrs: bytes) -> None:
    line = b'{"log":"a\\n","stream":"stderr","attrs":' + attrs + b',"time":"' + STAMP.encode() + b'"}\n'
    decoded = both(compiled, line)
    assert decoded in ([(2, BASE + 1, b"a", False)], [TORN])
    assert _compiled_module().decode_line(line) in (None, *decoded)


def test_a_torn_record_is_torn_and_the_records_around_it_are_read(compiled: Callable[..., list[FileLine]]) -> None:
    buffer = record(rb"kept\n") + b'{"log":"torn by a cra\n\n' + record(rb"after\n")
    assert both(compiled, buffer) == [(1, BASE + 1, b"kept", False), TORN, TORN, (1, BASE + 1, b"after", False)]


def test_only_records_not_in_dockerds_shape_are_handed_to_the_python_decoder(
    compiled: Callable[..., list[FileLine]],
) -> None:
    handed: list[tuple[bytes, int]] = []

    def fallback(line: bytes, since: int) -> FileLine | None:
        handed.append((line, since))
        return decode_record(line, since)

    odd = b'{"stream":"stdout","log":"x\\n","time":"' + STAMP.encode() + b'"}'
    buffer = record(rb"a\n") + odd + b"\n" + record(rb"b\n", b"stderr")
    assert compiled(buffer, len(buffer) - 1, 7, fallback) == [
        (1, BASE + 1, b"a", False),
        (1, BASE + 1, b"x", False),
        (2, BASE + 1, b"b", False),
    ]
    assert handed == [(odd, 7)]


def test_an_error_in_the_fallback_propagates(compiled: Callable[..., list[FileLine]]) -> None:
    def fallback(line: bytes, since: int) -> FileLine | None:
        raise RuntimeError("a bug in the Python decoder")

    with pytest.raises(RuntimeError, match="a bug in the Python decoder"):
        compiled(b"garbage\n", 7, 0, fallback)


def test_the_end_of_the_chunk_is_where_the_caller_says(compiled: Callable[..., list[FileLine]]) -> None:
    buffer = record(rb"a\n") + record(rb"b\n")
    first_end = buffer.index(b"\n")
    assert compiled(buffer, first_end, 0, decode_record) == [(1, BASE + 1, b"a", False)]
    assert compiled(b"\n", 0, 0, decode_record) == [TORN] == decode_buffer_python(b"\n", 0, 0, decode_record)
    with pytest.raises(ValueError, match="outside the chunk"):
        compiled(buffer, len(buffer) + 1, 0, decode_record)


def test_the_reader_decodes_with_the_c_decoder_where_it_is_built() -> None:
    assert jsonfile.decode_buffer is _compiled_module().decode_buffer


# ---- the differential test's json-file corpora ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["generated/nest-json-file", "property/parser-lines"])
def test_the_json_file_corpora_decode_the_same(
    compiled: Callable[..., list[FileLine]], name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.differential import corpora

    directory = tmp_path_factory.mktemp("corpora")
    if name == "generated/nest-json-file":
        path = directory / "nest-json-file.log"
        corpora.write_json_file_log(path, 2_000)
    else:
        path = corpora._parser_lines(directory / "parser-lines.log")
    data = Path(path).read_bytes()
    decoded = both(compiled, data)
    assert len(decoded) == data.count(b"\n")
    assert TORN not in decoded


# ---- one record at a time (the saved-log reader, sources/file.py) -----------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.booleans())
def test_a_record_decoded_alone_is_what_the_python_decoder_makes_of_it_or_left_to_it(
    compiled: Callable[..., list[FileLine]], line: bytes, newline: bool
) -> None:
    decoded = _compiled_module().decode_line(line + (b"\n" if newline else b""))
    if decoded is not None:  # dockerd's own shape: every record the buffer decoder takes, at any `since`
        assert decoded == decode_record(line, -(2**63))
        assert compiled(line, len(line), -(2**63), lambda _line, _since: None) == [decoded]


def test_a_record_not_in_dockerds_shape_is_left_to_the_caller() -> None:
    decode_line = _compiled_module().decode_line
    assert decode_line(record(rb"a\n")) == (1, BASE + 1, b"a", False)
    assert decode_line(record(rb"a\n").rstrip(b"\n")) == (1, BASE + 1, b"a", False)
    assert decode_line(b'{"stream":"stdout","log":"a\\n","time":"' + STAMP.encode() + b'"}\n') is None
    assert decode_line(record(rb"\ud800")) is None
    assert decode_line(b"") is None
    long = b"x" * 10_000  # past the decoder's stack buffer
    assert decode_line(record(long)) == (1, BASE + 1, long, True)
