"""Templates run within bounds: loops, ranges, time, string and integer sizes, recursion. Each crossing is a
template error naming the template, raised in milliseconds, never a hang, a traceback or gigabytes."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from logpipe.engine import RuleLoadError, load_rules
from logpipe.render.renderer import Renderer, TemplateProblem, sample_payload

BOUNDED = {
    "nested-range": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "range of"),
    "nested-loops": (
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "loops ran more than 100000 iterations",
    ),
    "loops-over-text": (
        "{% for a in message %}{% for b in message %}{% for c in message %}x{% endfor %}{% endfor %}{% endfor %}",
        "loops ran more than",
    ),
    "string-times-big": ("{{ 'x' * 10**9 }}", "repeating 1 items 1000000000 times is over the 1000000 limit"),
    "big-range-list": ("{{ range(10**9) | list }}", "range of 1000000000 items is over the 10000 limit"),
    "recursive-macro": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion too deep"),
    "huge-power": ("{{ 7 ** 100000 }}", "is over the 4096-bit integer limit"),
    "huge-product": ("{{ 2 ** 4000 * 2 ** 4000 }}", "computed an integer over the 4096-bit limit"),
    "center-filter": ("{{ 'x' | center(1000000000) }}", "argument 1000000000 is over the 1000000 limit"),
    "center-method": ("{{ 'x'.center(1000000000) }}", "argument 1000000000 is over the 1000000 limit"),
    "format-filter": ("{{ '%0999999999d' | format(1) }}", "a format width or precision of a million or more"),
    "percent-operator": ("{{ '%0999999999d' % 1 }}", "a format width or precision of a million or more"),
    "format-method": ("{{ '{:>999999999}'.format(1) }}", "a format width or precision of a million or more"),
    "invalid-python": ("{{ title[:,50] }}", "not a valid expression"),  # Jinja emitted invalid Python (bench/fuzz.py)
    "division-by-zero": ("{{ count / 0 }}", "ZeroDivisionError: division by zero"),
    "nested-deep": ("{{ x" + "[" * 5000 + " }}", "nested too deeply"),  # a RecursionError (bench/fuzz_guided.py)
    "doubling": (
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "over the 1000000 limit",
    ),
}


@pytest.mark.parametrize("name", BOUNDED)
def test_a_template_past_a_bound_is_a_quick_error_naming_it(tmp_path: Path, name: str) -> None:
    source, expected = BOUNDED[name]
    (tmp_path / f"{name}.console.txt.j2").write_text(source)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TemplateProblem) as raised:
        Renderer([tmp_path]).render("console", sample_payload(), name)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: no gigabyte allocated
    assert str(raised.value).startswith(f"{name}.console.txt.j2: ")
    assert expected in str(raised.value)


def test_a_slow_template_stops_at_the_time_limit(tmp_path: Path) -> None:
    # each iteration sorts a long list: few iterations, much time
    source = "{% for i in range(9000) %}{{ (range(9000) | list | sort | first) }}{% endfor %}"
    (tmp_path / "slow.console.txt.j2").write_text(source)
    with pytest.raises(TemplateProblem, match=r"slow.console.txt.j2: .*(rendering took more than 2 s|loops ran)"):
        Renderer([tmp_path]).render("console", sample_payload(), "slow")


def test_rule_loading_with_a_runaway_template_fails_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "loop.console.txt.j2").write_text(BOUNDED["nested-range"][0])
    (tmp_path / "rules.yml").write_text(
        "rules:\n  - id: x\n    title: x\n    runbook: x\n    template: loop\n"
        "    match: {message: {contains: boom}}\n    examples: {match: [boom]}\n"
    )
    with pytest.raises(RuleLoadError) as raised:  # (pytest-timeout is the guard against a hang)
        load_rules([tmp_path])
    assert str(raised.value).startswith(f"{tmp_path / 'rules.yml'}:5: rules[0].template: loop.console.txt.j2: ")


def test_ordinary_templates_are_untouched() -> None:
    renderer = Renderer()
    source = (
        "{{ rule }}:{% for s in samples %}{{ s.message[:8] }}{% endfor %}|{{ 'ab' * 2 }}|{{ '%03d' % 7 }}|{{ 2**10 }}"
    )
    expected = "postgres-connection-error:Unable t|abab|007|1024"
    assert renderer.env.from_string(source).render(sample_payload()) == expected
    assert renderer.check(None, sample_payload()) == []
