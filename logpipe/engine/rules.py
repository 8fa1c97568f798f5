"""Load rule files into a RuleSet: read YAML with lines, validate with the schema, compile conditions, extractors
and kinds, build the prefilter. Every problem in every file is reported at once, each with file:line and field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ValidationError

from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.engine.conditions import SCANNED, Condition, Need, Pattern, SpecError, Values, captured_names
from logpipe.engine.extract import Extractor, compile_extractor
from logpipe.engine.kinds.base import CompiledRule, RuleInfo
from logpipe.engine.kinds.make import build_kind
from logpipe.engine.metrics.model import Metric, PathNormalisers, compile_metric, metric_clients
from logpipe.engine.metrics.schema import MetricModel
from logpipe.engine.prefilter import Prefilter
from logpipe.engine.schema import AnyRule, ExtractModel, RatioModel, RuleFile, SequenceModel, schema_errors
from logpipe.engine.specs import compile_condition, gated_patterns, need_of
from logpipe.errors import Location, RuleError
from logpipe.event import Event, stack_of
from logpipe.render.renderer import Renderer, sample_payload

RULE_SUFFIXES = (".yml", ".yaml")


class RuleLoadError(RuleError):
    """One or more rule files are invalid; `errors` has each problem with its location."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = list(errors)
        Exception.__init__(self, "\n".join(str(error) for error in self.errors))
        self.location, self.problem = self.errors[0].location, self.errors[0].problem


def default_rules_dir() -> Path:
    """The ClipForge rule pack shipped with logpipe (the repository's rules/, installed as package data)."""
    return Path(str(resources.files("logpipe.defaultrules")))


def rule_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise RuleError(Location(str(path)), "no such file or directory")
    return files


@dataclass(frozen=True, slots=True)
class LoadedRule:
    rule: CompiledRule  # a prototype: its conditions and info are shared; its window state is never used
    file: Path
    line: int | None
    new_state: Callable[[], CompiledRule]  # a fresh instance, with empty windows, for each engine


class RuleSet:
    """The compiled rules, immutable: what engines run (each with its own state, from `new_states`) and what
    `rules test/explain` inspect. Also the log-derived metrics' definitions (their values live in a MetricSet)."""

    def __init__(
        self,
        rules: Sequence[LoadedRule],
        extractors: Sequence[Extractor],
        metrics: Sequence[Metric] = (),
        exhaustive: bool = False,
    ) -> None:
        """`exhaustive`: no prefilter, every event tried against everything and every regex run; the reference
        that shows the prefilter changes nothing (tests/unit/engine/test_prefilter_exact.py)."""
        self.loaded = tuple(rules)
        self.rules = tuple(loaded.rule for loaded in rules)
        self.extractors = tuple(extractors)
        self.metrics = tuple(metrics)
        # one prefilter for all: extractors are clients 0..k-1 (so they run first), rules k.. after them, metrics
        # after the rules
        requirements = [
            *(self._extractor_need(e) for e in self.extractors),
            *(requirement_of(rule) for rule in self.rules),
            *(need_of(branch, captured_names(branch)) for _, branch in metric_clients(self.metrics)),
        ]
        if exhaustive:
            self.prefilter = Prefilter([None] * len(requirements))
        else:
            self.prefilter = Prefilter(requirements, gated=self._gated_patterns())
        self._first_rule = len(self.extractors)
        self._first_metric = self._first_rule + len(self.rules)  # the metrics' clients: see metric_clients
        # per extractor: the rules and metrics that need a field under a key it fills (http-access-nest fills
        # http.*: the HTTP rules and metrics), tried on an event once the extractor gave it those fields
        by_head = self.prefilter.by_head
        self._filled_for = tuple(
            tuple(sorted({c for head in e.heads for c in by_head.get(head, ()) if c >= self._first_rule}))
            for e in self.extractors
        )
        self.index = {rule.info.id: position for position, rule in enumerate(self.rules)}

    def _extractor_need(self, extractor: Extractor) -> frozenset[Need] | None:
        """What the prefilter needs to see for an extractor: its `when`'s needs (not its own regex: anchored and
        cheap, it would make hyperscan call back into Python on every line it fits, which costs more than running
        it). `when` may read what an earlier extractor fills: no presence need on those keys."""
        if extractor.when is None:
            return None
        filled = frozenset().union(*(e.heads for e in self.extractors))
        return need_of(extractor.when, captured_names(extractor.when) | filled)

    def _gated_patterns(self) -> list[Pattern]:
        """Every text regex in every condition (rules, extractors' `when`, metrics), for the prefilter's scan."""
        conditions: list[Condition] = [c for rule in self.rules for c in rule.conditions.values()]
        conditions += [e.when for e in self.extractors if e.when is not None]
        conditions += [branch for _, branch in metric_clients(self.metrics)]
        return list(dict.fromkeys(pattern for condition in conditions for pattern in gated_patterns(condition)))

    def memory(self) -> int:
        """How far back (ns) rule state reaches: the longest window or sequence, at most an hour. A restarted
        follower re-reads that much before its checkpoint to rebuild windows (incidents and throttles are saved
        with the checkpoints, so they need no re-read)."""
        spans = [
            span
            for rule in self.rules
            for span in (getattr(rule.info.model, "window", None), getattr(rule.info.model, "within", None))
            if span
        ]
        return min(max(spans, default=0), 3_600_000_000_000)

    def new_states(self) -> list[CompiledRule]:
        """Rule instances with empty windows, in rule order: one set per engine."""
        return [loaded.new_state() for loaded in self.loaded]

    def select(self, event: Event) -> tuple[Values, Sequence[int]]:
        """What conditions read besides the event (`text`: message and stack; the extracted fields), and the
        indexes of the rules that could match it."""
        values, rules, _ = self.select_all(event)
        return values, rules

    def select_all(
        self, event: Event, text: str | None = None, found: Sequence[int] | None = None
    ) -> tuple[Values, Sequence[int], Sequence[int]]:
        """`select`, and which metrics could count the event (indexes of `metric_clients(self.metrics)`).
        `text` and `found`: the event's scan text and the patterns in it, when `prescan` scanned it ahead."""
        if text is None:
            text = scan_text(event)
        clients, scanned = self.prefilter.scan(event, text, found)
        values: Values = {"text": text, SCANNED: scanned} if scanned is not None else {"text": text}
        first_rule, first_metric = self._first_rule, self._first_metric
        if not first_rule and not self.metrics:
            return values, clients, ()
        filled: set[int] | None = None
        for client in clients:
            if client >= first_rule:
                break
            if self.extractors[client].apply(event, values) and self._filled_for[client]:
                filled = set(self._filled_for[client]) if filled is None else filled.union(self._filled_for[client])
        if filled is not None:
            clients = sorted(filled.union(clients))
        rules: list[int] = []
        metrics: list[int] = []
        for client in clients:
            if client < first_rule:
                continue
            if client < first_metric:
                rules.append(client - first_rule)
            else:
                metrics.append(client - first_metric)
        return values, rules, metrics

    def prescan(self, events: Sequence[Event]) -> tuple[list[str], list[Sequence[int]]] | None:
        """The scan texts of `events` and the patterns in each, from one prefilter scan of them all (None: the
        prefilter has no patterns), for `select_all(event, text, found)`."""
        texts = [scan_text(event) for event in events]
        found = self.prefilter.scan_texts(texts)
        return (texts, found) if found is not None else None

    def values_for(self, event: Event) -> Values:
        return self.select(event)[0]

    def candidates(self, event: Event) -> Sequence[int]:
        return self.select(event)[1]

    def rule(self, rule_id: str) -> CompiledRule:
        return self.rules[self.index[rule_id]]


def scan_text(event: Event) -> str:
    """What the prefilter scans and `text` conditions read: the message, and the stack trace under it."""
    stack = stack_of(event.fields)
    return f"{event.message}\n{stack}" if stack else event.message


def requirement_of(rule: CompiledRule) -> frozenset[Need] | None:
    """The text patterns an event needs for this rule to care about it (None: any event may matter)."""
    conditions = rule.conditions
    # a name its regexes capture is in `values` without being a field: no presence need on it
    captured = frozenset().union(*(captured_names(condition) for condition in conditions.values()))
    if "base" in conditions:  # ratio: every base event counts, matching or not
        return need_of(conditions["base"], captured)
    needs = [need_of(condition, captured) for condition in conditions.values()]
    if any(need is None for need in needs):
        return None
    return frozenset().union(*needs)  # type: ignore[arg-type]


def load_rules(paths: Iterable[Path] | None = None) -> RuleSet:
    """Load and compile every rule file under `paths` (default: the shipped pack); raise RuleLoadError listing
    every problem found."""
    paths = list(paths) if paths is not None else None
    try:
        files = rule_files(paths if paths is not None else [default_rules_dir()])
    except RuleError as error:
        raise RuleLoadError([error]) from None
    errors: list[RuleError] = []
    rules: list[LoadedRule] = []
    # user templates: a templates/ folder beside the rule files, searched before logpipe's own
    renderer = Renderer(sorted({file.parent / "templates" for file in files}))
    extractors: list[Extractor] = []
    metrics: list[Metric] = []
    seen: dict[str, Location] = {}
    metric_names: dict[str, Location] = {}
    normalisers: PathNormalisers = {}
    for file in files:
        try:
            document = load_yaml(file)
        except RuleError as error:
            errors.append(error)
            continue
        if document is None:
            continue
        try:
            parsed = RuleFile.model_validate(document)
        except ValidationError as invalid:
            errors.extend(schema_errors(file, document, invalid))
            continue
        for index, model in enumerate(parsed.extract):
            path: tuple[str | int, ...] = ("extract", index)
            if _claim(model.id, file, document, path, seen, errors):
                try:
                    extractors.append(_extractor(model))
                except SpecError as error:
                    errors.append(_located(error, file, document, path))
        for index, rule_model in enumerate(parsed.rules):
            path = ("rules", index)
            if _claim(rule_model.id, file, document, path, seen, errors):
                line = line_of(document, path)
                try:
                    _check_templates(rule_model, renderer)
                    build = _rule_factory(rule_model, f"{file}:{line}")
                    rules.append(LoadedRule(build(), file, line, build))
                except SpecError as error:
                    errors.append(_located(error, file, document, path))
        for index, metric_model in enumerate(parsed.metrics):
            path = ("metrics", index)
            here = Location(str(file), line_of(document, (*path, "name")), dotted((*path, "name")))
            if metric_model.name in metric_names:
                first = metric_names[metric_model.name]
                errors.append(RuleError(here, f"duplicate metric {metric_model.name!r}, first defined at {first}"))
                continue
            metric_names[metric_model.name] = here
            try:
                metrics.append(_metric(metric_model, f"{file}:{line_of(document, path)}", normalisers))
            except SpecError as error:
                errors.append(_located(error, file, document, path))
    errors.extend(_unknown_inhibitions(rules))
    if not rules and not metrics and not errors:
        where = ", ".join(str(path) for path in (paths or [default_rules_dir()]))
        errors.append(RuleError(Location(where), "no rules or metrics found (a rule set with none would do nothing)"))
    if errors:
        raise RuleLoadError(errors)
    return RuleSet(rules, extractors, metrics)


def _unknown_inhibitions(rules: Sequence[LoadedRule]) -> list[RuleError]:
    """An `inhibits:` entry naming no loaded rule would fold in nothing, silently: refuse it."""
    known = {loaded.rule.info.id for loaded in rules}
    errors = []
    for loaded in rules:
        for index, item in enumerate(loaded.rule.info.model.inhibits):
            if item.rule not in known:
                where = Location(str(loaded.file), loaded.line, f"{loaded.rule.info.id}.inhibits[{index}].rule")
                errors.append(RuleError(where, f"no rule {item.rule!r} to inhibit"))
    return errors


def _claim(
    identifier: str,
    file: Path,
    document: Any,
    path: tuple[str | int, ...],
    seen: dict[str, Location],
    errors: list[RuleError],
) -> bool:
    here = Location(str(file), line_of(document, (*path, "id")), dotted((*path, "id")))
    if identifier in seen:
        errors.append(RuleError(here, f"duplicate id {identifier!r}, first defined at {seen[identifier]}"))
        return False
    seen[identifier] = here
    return True


def _located(error: SpecError, file: Path, document: Any, path: tuple[str | int, ...]) -> RuleError:
    where = (*path, *error.path)
    return RuleError(Location(str(file), line_of(document, where), dotted(where)), error.problem)


def _condition(spec: Any, name: str) -> Condition:
    return compile_condition(spec, (name,))


def _rule_factory(model: AnyRule, source: str) -> Callable[[], CompiledRule]:
    """Compile the rule's conditions once (they are stateless); each call builds a kind with fresh state."""
    info = RuleInfo(
        id=model.id,
        title=model.title,
        severity=model.severity,
        description=model.description,
        runbook=model.runbook,
        actions=tuple(model.actions),
        group_by=tuple(model.group_by),
        source=source,
        sentry=model.sentry,
        fingerprint=tuple(model.fingerprint or ()),
        template=model.template,
        model=model,
    )
    match = _condition(model.match, "match")
    base = _condition(model.base, "base") if isinstance(model, RatioModel) else None
    then = _condition(model.then, "then") if isinstance(model, SequenceModel) else None
    build_kind(info, model, match, base, then)  # checks the kind's settings now, at load
    return lambda: build_kind(info, model, match, base, then)


def _check_templates(model: AnyRule, renderer: Renderer) -> None:
    """A typo in a rule's templates fails at load (`logpipe rules check`), not in a 3 a.m. alert."""
    sample = sample_payload()
    if model.template is not None:
        problems = renderer.check(model.template, sample)
        if problems:
            raise SpecError(("template",), problems[0])
    for index, item in enumerate(model.fingerprint or ()):
        try:
            renderer.env.from_string(item).render(sample)
        except jinja2.TemplateError as error:
            raise SpecError(("fingerprint", index), f"template error: {error}") from None


def _extractor(model: ExtractModel) -> Extractor:
    return compile_extractor(model, _condition(model.when, "when") if model.when is not None else None)


def _metric(model: MetricModel, source: str, normalisers: PathNormalisers) -> Metric:
    from logpipe.engine.metrics.export import parse_sample

    spec = model.match
    if isinstance(spec, dict) and list(spec) == ["any"] and isinstance(spec["any"], list) and spec["any"]:
        branches = [compile_condition(item, ("match", "any", index)) for index, item in enumerate(spec["any"])]
    else:
        branches = [_condition(spec, "match")]
    metric = compile_metric(model, branches, source, normalisers)
    for number, example in enumerate(model.examples):
        for sample in example.samples:
            try:
                parse_sample(sample)
            except ValueError as error:
                raise SpecError(("examples", number, "samples", sample), str(error)) from None
    return metric
