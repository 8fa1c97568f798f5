"""Load rule sources into a RuleSet: read each file's YAML with lines, validate each item on its own (so one bad
rule hides no other problem), stack the layers (definitions, `replace: true`, `overrides:`), compile conditions,
extractors, kinds and metrics. Every problem of every file is reported in one run, each with file:line and field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ConfigDict, ValidationError

from logpipe.config.yamlfile import dotted, line_of, load_yaml
from logpipe.engine.conditions import Condition, SpecError
from logpipe.engine.didyoumean import did_you_mean
from logpipe.engine.extract import Extractor, compile_extractor
from logpipe.engine.kinds.base import CompiledRule, RuleInfo
from logpipe.engine.kinds.make import build_kind
from logpipe.engine.layers import RULE_ADAPTER, Layers, RuleEntry, Written
from logpipe.engine.metrics.model import Metric, PathNormalisers, compile_metric
from logpipe.engine.metrics.schema import MetricModel
from logpipe.engine.problems import misnamed_kind, schema_errors
from logpipe.engine.rulefiles import default_rules_dir, rule_files
from logpipe.engine.rules import LoadedRule, RuleLoadError, RuleSet
from logpipe.engine.schema import AnyRule, ExtractModel, Override, RatioModel, RuleFile, SequenceModel
from logpipe.engine.specs import compile_condition
from logpipe.errors import Location, RuleError
from logpipe.render.renderer import Renderer, sample_payload

_SECTIONS = ("extract", "rules", "overrides", "metrics")


class _Shape(BaseModel):
    """A rule file's top level: the sections, each a list (their items are validated one by one)."""

    model_config = ConfigDict(extra="forbid")
    extract: list[Any] = []
    rules: list[Any] = []
    overrides: list[Any] = []
    metrics: list[Any] = []


def load_rules(paths: Iterable[Path] | None = None) -> RuleSet:
    """Load and compile every rule file under `paths`, in order (default: the shipped pack); raise RuleLoadError
    listing every problem found."""
    sources = list(paths) if paths is not None else [default_rules_dir()]
    try:
        files = rule_files(sources)
    except RuleError as error:
        raise RuleLoadError([error]) from None
    loader = _Loader(files)
    for file in files:
        loader.read(file)
    ruleset = loader.finish()
    if not ruleset.rules and not ruleset.metrics and not loader.errors and not ruleset.entries:
        where = ", ".join(str(path) for path in sources)
        loader.errors.append(
            RuleError(Location(where), "no rules or metrics found (a rule set with none would do nothing)")
        )
    if loader.errors:
        # in reading order (compile errors are found after every file is read): file by file, line by line
        rank = {str(file): number for number, file in enumerate(files)}
        loader.errors.sort(key=lambda e: (rank.get(e.location.file, len(rank)), e.location.line or 0))
        raise RuleLoadError(loader.errors)
    return ruleset


class _Loader:
    def __init__(self, files: Sequence[Path]) -> None:
        self.errors: list[RuleError] = []
        self.layers = Layers()
        # user templates: a templates/ folder beside the rule files, searched before logpipe's own
        self.renderer = Renderer(sorted({file.parent / "templates" for file in files}))
        self.extractors: list[Extractor] = []
        self.extractor_ids: dict[str, Location] = {}
        self.metrics: list[Metric] = []
        self.metric_names: dict[str, Location] = {}
        self.routers: PathNormalisers = {}

    def read(self, file: Path) -> None:
        try:
            document = load_yaml(file)
        except RuleError as error:
            self.errors.append(error)
            return
        if document is None:
            return
        try:
            shape = _Shape.model_validate(document)
        except ValidationError as invalid:
            self.errors.extend(schema_errors(file, document, invalid))
            return
        for index, item in enumerate(shape.extract):
            self._extractor(file, document, index, item)
        for index, item in enumerate(shape.rules):
            self._rule(file, document, index, item)
        for index, item in enumerate(shape.overrides):
            self._override(file, document, index, item)
        for index, item in enumerate(shape.metrics):
            self._metric(file, document, index, item)

    # --- one item each -----------------------------------------------------------------------------------------
    def _extractor(self, file: Path, document: Any, index: int, item: Any) -> None:
        path: tuple[str | int, ...] = ("extract", index)
        try:
            model = ExtractModel.model_validate(item)
        except ValidationError as invalid:
            self.errors.extend(schema_errors(file, document, invalid, path))
            return
        here = Location(str(file), line_of(document, (*path, "id")), dotted((*path, "id")))
        if model.id in self.extractor_ids or model.id in self.layers:
            first = self.extractor_ids.get(model.id, "a rule")
            self.errors.append(RuleError(here, f"duplicate id {model.id!r}, first defined at {first}"))
            return
        self.extractor_ids[model.id] = here
        try:
            when = compile_condition(model.when, ("when",)) if model.when is not None else None
            self.extractors.append(compile_extractor(model, when))
        except SpecError as error:
            self.errors.append(_located(error, file, document, path))

    def _rule(self, file: Path, document: Any, index: int, item: Any) -> None:
        path: tuple[str | int, ...] = ("rules", index)
        rule_id = item.get("id") if isinstance(item, dict) else None
        misnamed = misnamed_kind(item)
        if misnamed is not None:
            key, kind = misnamed
            where = Location(str(file), line_of(document, (*path, key)), dotted((*path, key)))
            self.errors.append(RuleError(where, f"unknown key {key!r}; did you mean `kind: {kind}`?"))
            item = {**{k: v for k, v in item.items() if k != key}, "kind": kind}
        model: AnyRule | None = None
        try:
            model = RULE_ADAPTER.validate_python(item)
        except ValidationError as invalid:
            self.errors.extend(schema_errors(file, document, invalid, path))
            self._check_conditions(file, document, path, item)  # its regexes' problems too, in this same run
        if not isinstance(rule_id, str) or not rule_id:
            return
        if rule_id in self.extractor_ids:
            here = Location(str(file), line_of(document, (*path, "id")), dotted((*path, "id")))
            first = self.extractor_ids[rule_id]
            self.errors.append(RuleError(here, f"duplicate id {rule_id!r}, first defined at {first}"))
            return
        self.layers.define(Written(rule_id, file, document, path, model))

    def _check_conditions(self, file: Path, document: Any, path: tuple[str | int, ...], item: Any) -> None:
        if not isinstance(item, dict):
            return
        for name in ("match", "base", "then"):
            if name in item:
                try:
                    compile_condition(item[name], (name,))
                except SpecError as error:
                    self.errors.append(_located(error, file, document, path))

    def _override(self, file: Path, document: Any, index: int, item: Any) -> None:
        path: tuple[str | int, ...] = ("overrides", index)
        try:
            model = Override.model_validate(item)
        except ValidationError as invalid:
            self.errors.extend(schema_errors(file, document, invalid, path))
            return
        self.layers.override(Written(model.id, file, document, path, model))

    def _metric(self, file: Path, document: Any, index: int, item: Any) -> None:
        path: tuple[str | int, ...] = ("metrics", index)
        try:
            model = MetricModel.model_validate(item)
        except ValidationError as invalid:
            self.errors.extend(schema_errors(file, document, invalid, path))
            return
        here = Location(str(file), line_of(document, (*path, "name")), dotted((*path, "name")))
        if model.name in self.metric_names:
            first = self.metric_names[model.name]
            self.errors.append(RuleError(here, f"duplicate metric {model.name!r}, first defined at {first}"))
            return
        self.metric_names[model.name] = here
        try:
            self.metrics.append(_compile_metric(model, f"{file}:{line_of(document, path)}", self.routers))
        except SpecError as error:
            self.errors.append(_located(error, file, document, path))

    # --- the whole set -----------------------------------------------------------------------------------------
    def finish(self) -> RuleSet:
        entries = self.layers.entries()
        self.errors.extend(self.layers.errors)
        loaded: list[LoadedRule] = []
        for entry in entries:
            try:
                _check_templates(entry.model, self.renderer)
                build = _rule_factory(entry.model, f"{entry.defined.file}:{entry.defined.line}")
            except SpecError as error:
                self.errors.append(_entry_error(entry, error))
                continue
            if entry.enabled:
                loaded.append(LoadedRule(build(), Path(entry.defined.file), entry.defined.line, build))
        self.errors.extend(_unknown_inhibitions(entries, self.layers.known()))
        return RuleSet(loaded, self.extractors, self.metrics, entries=entries)


def _located(error: SpecError, file: Path, document: Any, path: tuple[str | int, ...]) -> RuleError:
    where = (*path, *error.path)
    return RuleError(Location(str(file), line_of(document, where), dotted(where)), error.problem)


def _entry_error(entry: RuleEntry, error: SpecError) -> RuleError:
    """A compile error in a merged rule, at the file and line that wrote the setting."""
    key = str(error.path[0]) if error.path else ""
    where = entry.origins.get(key, entry.defined)
    inner = tuple(error.path[1:])
    if not inner:
        return RuleError(where, error.problem)
    line = line_of(entry.raw.get(key), inner) or where.line
    return RuleError(Location(where.file, line, where.path + dotted(("x", *inner))[1:]), error.problem)


def _unknown_inhibitions(entries: Sequence[RuleEntry], known: Sequence[str]) -> list[RuleError]:
    """An `inhibits:` entry naming no rule would fold in nothing, silently: refuse it. A rule switched off is
    still known (switching a symptom off is not a typo)."""
    errors = []
    for entry in entries:
        for index, item in enumerate(entry.model.inhibits):
            if item.rule not in known:
                place = entry.origins.get("inhibits", entry.defined)
                raw = entry.raw.get("inhibits")
                line = line_of(raw, (index, "rule")) if raw is not None else None
                where = Location(place.file, line or place.line, f"{entry.id}.inhibits[{index}].rule")
                errors.append(RuleError(where, f"no rule {item.rule!r} to inhibit{did_you_mean(item.rule, known)}"))
    return errors


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


def _condition(spec: Any, name: str) -> Condition:
    return compile_condition(spec, (name,))


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


def _compile_metric(model: MetricModel, source: str, routers: PathNormalisers) -> Metric:
    from logpipe.engine.metrics.export import parse_sample

    spec = model.match
    if isinstance(spec, dict) and list(spec) == ["any"] and isinstance(spec["any"], list) and spec["any"]:
        branches = [compile_condition(item, ("match", "any", index)) for index, item in enumerate(spec["any"])]
    else:
        branches = [_condition(spec, "match")]
    metric = compile_metric(model, branches, source, routers)
    for number, example in enumerate(model.examples):
        for sample in example.samples:
            try:
                parse_sample(sample)
            except ValueError as error:
                raise SpecError(("examples", number, "samples", sample), str(error)) from None
    return metric


__all__ = ["RuleFile", "load_rules"]
