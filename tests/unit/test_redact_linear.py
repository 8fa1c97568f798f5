"""The redactor's cost grows linearly with the text: doubling an adversarial line at most about doubles the CPU
time (the old single-regex redactor took 24 s on a 10 KB line of `a.a.a.` and 100 s on 20 KB). Its cost per KiB
up to 1 MiB, per adversarial shape, is printed by bench/redact_throughput.py."""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from logpipe.redact import Redactor

redactor = Redactor()

# pieces that start or half-finish a catalogue pattern: repeated, they make every position a candidate
PIECES = [
    "a.",
    "password=",
    "password ",
    "secret ",
    "a@a.",
    "4242 ",
    "ghp_",
    "Bearer ",
    "x://a:b@",
    "aws_",
    "eyJabcd.",
    "-----BEGIN PRIVATE KEY-----",
    '"token":"\\',
    "Authorization: ",
    "+91 9",
    "DE89 ",
]


def time_ratio(line: str, twice: str) -> float:
    """time(twice) / time(line), in this thread's CPU time (a process that takes the CPU away does not count),
    each the best of seven runs, interleaved so both meet the same load (other processes still share caches)."""
    best = {len(line): float("inf"), len(twice): float("inf")}
    gc.disable()  # a collection landing in one run is not the redactor's cost either
    try:
        for _ in range(7):
            for text in (line, twice):
                started = time.thread_time()
                redactor.text(text)
                best[len(text)] = min(best[len(text)], time.thread_time() - started)
    finally:
        gc.enable()
    return best[len(twice)] / best[len(line)]


# no shrinking or explaining: Hypothesis traces the code while explaining a failure, which changes the timing
@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3))
def test_doubling_an_adversarial_line_at_most_about_doubles_the_time(shape: list[str]) -> None:
    unit = "".join(shape)
    # 8 then 16 KiB: both fit the CPU's caches (from 32 to 64 KiB this machine's time steps up once, caches
    # and not the algorithm: it is flat again beyond); a quadratic redactor shows a ratio near 4 at any size
    size = 8 * 1024
    line = (unit * (size // len(unit) + 1))[:size]
    twice = (unit * (2 * size // len(unit) + 1))[: 2 * size]
    # measured up to five times: a quadratic redactor is slow every time (ratio about 4), a busy machine is not
    redactor.text(twice)  # warm-up: the first run grows the heap (page faults), which is not the redactor's cost
    ratios = []
    for _ in range(5):
        ratios.append(time_ratio(line, twice))
        if ratios[-1] < 2.5:
            return
    raise AssertionError(f"{unit!r}: time(2n) / time(n) = {', '.join(f'{r:.2f}' for r in ratios)}")


@pytest.mark.timeout(20)  # milliseconds now; the old redactor would take hours (its 20 KB took 100 s)
def test_a_one_mebibyte_line_of_the_old_worst_case_is_read_to_its_end() -> None:
    line = "a.a.a." * (1024 * 1024 // 6)
    assert redactor.text(line) == line
