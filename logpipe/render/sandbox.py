"""Jinja2's sandbox with bounds on what one render may cost: loop iterations, time, the size of strings and
integers it builds, and recursion. Jinja's own sandbox stops templates reaching Python's insides, but not a
template that loops 10^10 times, multiplies a string by 10^9 or recurses without end; a rule author's typo should
fail `logpipe rules check` with the template's name, not hang it or exhaust memory.

Every `{% for %}` iterates through `bounded_iter` (woven into the parsed template, so a template cannot skip it);
calls, attribute reads and the `*`, `**`, `%`, `+` operators check the budget too. A bound crossed raises
`TemplateLimitError`, a `jinja2.TemplateError`, so every place that already reports template errors reports it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import CodeType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_LOOP_STEPS = 100_000  # iterations of all loops of one render together
MAX_RANGE = 10_000  # items of one range()
MAX_SECONDS = 2.0  # of one render
MAX_STRING = 1_000_000  # characters (or items) of a string or list a template builds
MAX_INT_BITS = 4_096  # bits of an integer a template computes (about 1,233 digits)
_BIG_FORMAT_WIDTH = re.compile(r"\d{7,}")  # a width or precision of a million or more in a format string


class TemplateLimitError(jinja2.TemplateRuntimeError):
    """A template crossed one of the render bounds."""


@dataclass(slots=True)
class _Budget:
    deadline: float
    steps: int = 0

    def spend(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > MAX_LOOP_STEPS:
            raise TemplateLimitError(f"loops ran more than {MAX_LOOP_STEPS} iterations in one render")
        if self.steps % 256 == 0 or steps > 1:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"rendering took more than {MAX_SECONDS:g} s")


_budget: ContextVar[_Budget | None] = ContextVar("logpipe_template_budget", default=None)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # rendered outside BoundedTemplate.render (a generate() or stream()): bound it anyway
        budget = _Budget(time.monotonic() + MAX_SECONDS)
        _budget.set(budget)
    return budget


class BoundedTemplate(jinja2.Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        token = _budget.set(_Budget(time.monotonic() + MAX_SECONDS))
        try:
            return super().render(*args, **kwargs)
        except RecursionError:
            raise TemplateLimitError("recursion too deep (a macro or loop that calls itself without end?)") from None
        except OverflowError as error:
            raise TemplateLimitError(f"number too large: {error}") from None
        except MemoryError:
            raise TemplateLimitError("out of memory while rendering") from None
        except (ArithmeticError, LookupError, AttributeError, TypeError, ValueError) as error:
            # {{ 1 / 0 }}, {{ 'a' | int(base=99) }}: the template's mistake, reported as its error
            raise jinja2.TemplateRuntimeError(f"{type(error).__name__}: {error}") from None
        finally:
            _budget.reset(token)


class BoundedSandbox(SandboxedEnvironment):
    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = bounded_range

    def compile(
        self, source: str | nodes.Template, name: str | None = None, filename: str | None = None, *args: Any
    ) -> Any:
        try:
            return super().compile(source, name, filename, *args)
        except (RecursionError, MemoryError):  # `{{ x[[[[...` thousands deep: Jinja's parser recurses per level
            raise jinja2.TemplateSyntaxError("nested too deeply", 1, name=name, filename=filename) from None

    def _compile(self, source: str, filename: str) -> CodeType:
        try:
            return super()._compile(source, filename)
        except SyntaxError as error:  # Jinja can emit invalid Python ({{ s[:,50] }}): the template's error
            raise jinja2.TemplateSyntaxError(f"not a valid expression ({error.msg})", 1, filename=filename) from None

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = super()._parse(source, name, filename)
        for loop in template.find_all(nodes.For):
            counted = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [loop.iter], [], None, None)
            loop.iter = counted.set_lineno(loop.lineno).set_environment(self)
        return template

    @staticmethod
    def bounded_iter(items: Iterable[Any]) -> Iterator[Any]:
        budget = _current()
        for item in items:
            budget.spend()
            yield item

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _current().check_time()
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        result = super().call_binop(context, operator, left, right)
        return _checked(result)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current().check_time()
        if isinstance(getattr(__obj, "__self__", None), (str, list, tuple)):  # 'x'.center(10**9), .zfill, .ljust
            _check_sizes(args, kwargs)
        return _checked(SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_format(obj)  # "{:>999999999}".format(x): the sandbox wraps str.format, so check it here
        return _checked(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _checked(super().getitem(obj, argument))


def bounded_range(*args: int) -> range:
    items = range(*args)
    if len(items) > MAX_RANGE:
        raise TemplateLimitError(f"range of {len(items)} items is over the {MAX_RANGE} limit")
    return items


def bounded_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Each filter with its integer arguments and its result checked (`center(10**9)`, `'%9999999d'|format`)."""

    def bound(function: Any) -> Any:
        def bounded(*args: Any, **kwargs: Any) -> Any:
            _check_sizes(args[1:], kwargs)  # the filter's parameters, not the value filtered (a time in ns)
            if function is jinja2.filters.do_format and args and isinstance(args[0], str):
                _check_format(args[0])
            return _checked(function(*args, **kwargs))

        for marker in ("jinja_pass_arg",):  # keep pass_context / pass_eval_context
            if hasattr(function, marker):
                setattr(bounded, marker, getattr(function, marker))
        return bounded

    return {name: bound(function) for name, function in filters.items()}


def _check_sizes(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_STRING:
            raise TemplateLimitError(f"argument {value} is over the {MAX_STRING} limit")


def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) and len(sequence) * times > MAX_STRING:
        raise TemplateLimitError(f"repeating {len(sequence)} items {times} times is over the {MAX_STRING} limit")


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS
    ):
        raise TemplateLimitError(f"{base} ** {exponent} is over the {MAX_INT_BITS}-bit integer limit")


def _check_format(text: str) -> None:
    if _BIG_FORMAT_WIDTH.search(text) and ("%" in text or "{" in text):
        raise TemplateLimitError("a format width or precision of a million or more")


def _checked(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_STRING:
        raise TemplateLimitError(f"built a value of {len(value)} items, over the {MAX_STRING} limit")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimitError(f"computed an integer over the {MAX_INT_BITS}-bit limit")
    return value
