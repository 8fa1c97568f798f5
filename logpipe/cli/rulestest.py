"""`logpipe rules test`: every rule's inline examples (does it match), every metric's, and the rule tests over time
(`*.test.yml` beside the rule files: when does it fire, update, resolve, what does it fold); --junit-xml for CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from logpipe.cli.options import config_option, config_or_fail, load_or_fail, rule_paths_or_deprecated, rules_option
from logpipe.console.inert import inert
from logpipe.engine.examples import ExampleResult, parse_example, run_examples
from logpipe.engine.kinds.base import CompiledRule
from logpipe.engine.metrics.examples import MetricExampleResult, run_metric_examples
from logpipe.engine.rulefiles import default_rules_dir
from logpipe.engine.rules import RuleSet
from logpipe.event import Event
from logpipe.ruletests.report import Case, case_of, outcome_lines, write_junit
from logpipe.ruletests.run import run_suite

PASS = click.style("PASS", fg="green")
FAIL = click.style("FAIL", fg="red", bold=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@rules_option
@config_option
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the results as JUnit XML (GitLab, Jenkins and GitHub test reports read it).",
)
def test(
    paths: tuple[Path, ...], rule_paths: tuple[Path, ...], config_path: Path | None, junit_xml: Path | None
) -> None:
    """Run every rule's and metric's inline examples, and the rule tests over time of every source (its
    `*.test.yml` files); exit 1 if any fails."""
    config = config_or_fail(config_path)
    sources = rule_paths_or_deprecated(paths, rule_paths, "test") or tuple(config.rules)
    ruleset = load_or_fail(sources)
    cases = [*_examples(ruleset), *_metric_examples(ruleset)]
    suite = run_suite(ruleset, list(sources) or [default_rules_dir()])
    for outcome in suite.outcomes:
        for number, line in enumerate(outcome_lines(outcome)):
            click.echo(_styled(line) if number == 0 else inert(line))
        cases.append(case_of(outcome))
    for problem in suite.problems:
        click.echo(f"{FAIL} {problem}")
    if junit_xml is not None:
        write_junit(junit_xml, cases, [str(problem) for problem in suite.problems])
    passed = sum(case.status == "passed" for case in cases)
    failed = sum(case.status == "failed" for case in cases) + len(suite.problems)
    skipped = sum(case.status == "skipped" for case in cases)
    click.echo(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    if failed:
        sys.exit(1)


def _styled(line: str) -> str:
    for word, styled in (("PASS", PASS), ("FAIL", FAIL)):
        if line.startswith(word + " "):
            return styled + inert(line[len(word) :])
    return inert(line)


def _examples(ruleset: RuleSet) -> list[Case]:
    results: dict[str, list[ExampleResult]] = {}
    for result in run_examples(ruleset):
        results.setdefault(result.rule, []).append(result)
    cases = []
    for rule_id, outcomes in results.items():
        bad = [r for r in outcomes if not r.passed]
        click.echo(f"{FAIL if bad else PASS} {rule_id} ({len(outcomes)} examples)")
        details = []
        for result in bad:
            details.append(f"{result.expectation} example {result.number} {result.problem}:")
            details.append("  " + result.line.replace("\n", "\n  "))
            details.extend("  " + line for line in _explain_line(ruleset, ruleset.rule(rule_id), result.line))
        for line in details:
            click.echo("     " + inert(line))
        status = "failed" if bad else "passed"
        cases.append(
            Case("examples", rule_id, status, message=f"{len(bad)} example(s) failed", details="\n".join(details))
        )
    return cases


def _metric_examples(ruleset: RuleSet) -> list[Case]:
    by_metric: dict[str, list[MetricExampleResult]] = {}
    for result in run_metric_examples(ruleset):
        by_metric.setdefault(result.metric, []).append(result)
    cases = []
    for name, outcomes in by_metric.items():
        broken = [outcome for outcome in outcomes if not outcome.passed]
        click.echo(f"{FAIL if broken else PASS} metric {name} ({len(outcomes)} examples)")
        details = [f"example {example.number}: {problem}" for example in broken for problem in example.problems]
        for line in details:
            click.echo(f"     {line}")
        status = "failed" if broken else "passed"
        cases.append(Case("metric examples", name, status, message="examples failed", details="\n".join(details)))
    return cases


def _explain_line(ruleset: RuleSet, rule: CompiledRule, line: str) -> list[str]:
    return [
        text for event in parse_example(line) for text in explain_event(ruleset, rule, event, ruleset.values_for(event))
    ]


def explain_event(ruleset: RuleSet, rule: CompiledRule, event: Event, values: dict[str, object]) -> list[str]:
    """Why the rule's conditions hold or not on the event, condition by condition, with what they captured."""
    lines = []
    if ruleset.index[rule.info.id] not in ruleset.candidates(event):
        lines.append("skipped by the prefilter: none of its text patterns, attribute values or fields is in this event")
    for name, condition in rule.conditions.items():
        scratch = dict(values)
        ok, tree = condition.explain(event, scratch)
        lines.append(f"{name}: {'holds' if ok else 'does not hold'}")
        lines.extend("  " + text for text in tree)
        captured = {k: v for k, v in scratch.items() if k not in values}
        if captured:
            lines.append(f"  captured: {captured}")
    return lines
