"""No silent waits (cli/waiting.py): past its threshold a wait says what it waits for, as one line off a terminal
and as a rich spinner (with a bar when the total is known) on one; a wait that ends sooner says nothing."""

from __future__ import annotations

import io

from logpipe.cli.waiting import Waiting
from tests.waiting import wait_until


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_long_wait_is_one_line_and_a_short_one_nothing() -> None:
    said = io.StringIO()
    with Waiting("the follower's answer", stream=said, after=0.01):
        wait_until(said.getvalue, 10, "the line")
    assert said.getvalue() == "logpipe: waiting for the follower's answer\n"
    quiet = io.StringIO()
    with Waiting("nothing long", stream=quiet, after=60):
        pass
    assert quiet.getvalue() == ""


def test_on_a_terminal_a_long_wait_is_a_progress_bar_with_what_it_waits_for() -> None:
    screen = Terminal()
    with Waiting("24 deliveries", total=24, stream=screen, after=0.01) as waiting:
        wait_until(lambda: "waiting for 24 deliveries" in screen.getvalue(), 10, "the bar")
        waiting.update("3 deliveries", done=21)
        wait_until(lambda: "21/24" in screen.getvalue(), 10, "the bar moved")
    assert "logpipe: waiting for" not in screen.getvalue()  # the bar, not the plain line
