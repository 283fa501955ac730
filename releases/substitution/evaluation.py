"""Evaluating parsed templates against variable values: nesting, cycles, filters, and noting
every value computed from a sensitive variable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem, SubstitutionError, TemplateSyntaxError
from .filters import FILTERS
from .parsing import Expr, Parts, parse


class Values:
    """Variable values with case-insensitive names, prepared once and reused for many
    substitutions (a release with thousands of variables is looked up, not rebuilt)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | Values):
        if isinstance(values, Values):
            self._values = values._values
        else:
            self._values = {name.lower(): (name, value) for name, value in values.items()}

    def get(self, name: str) -> str | None:
        found = self._values.get(name.lower())
        return None if found is None else found[1]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def __len__(self) -> int:
        return len(self._values)

    def names(self) -> Iterable[str]:
        return (name for name, _ in self._values.values())


@dataclass
class _Evaluator:
    values: Values
    cache: dict[str, str | None] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)
    cycles: list[list[str]] = field(default_factory=list)
    path: str = ""
    # Derived secrets: names (lowercase) of sensitive variables; the evaluator notes the text of
    # every expression whose value was computed from one of them, however indirectly.
    sensitive: frozenset[str] = frozenset()
    derived: set[str] = field(default_factory=set)
    tainted: bool = False  # the expression being evaluated has touched a sensitive value
    _tainted_names: set[str] = field(default_factory=set)

    def variable(self, name: str) -> str | None:
        key = name.lower()
        if key in self.sensitive or key in self._tainted_names:
            self.tainted = True
        if key in self.cache:
            return self.cache[key]
        lowered = [s.lower() for s in self.stack]
        if key in lowered:
            cycle = self.stack[lowered.index(key) :] + [name]
            members = {c.lower() for c in cycle}
            if not any(members == {c.lower() for c in seen} for seen in self.cycles):
                self.cycles.append(cycle)
                self.problems.append(Problem(self.path, "reference cycle: " + " → ".join(cycle)))
            return None
        raw = self.values.get(name)
        if raw is None:
            if key not in self.unresolved:
                self.unresolved[key] = name
                where = f" (in the value of {self.stack[-1]})" if self.stack else ""
                self.problems.append(Problem(self.path, f"#{{{name}}} is not defined{where}"))
            return None
        if "#" not in raw:  # hot path: most values are plain text
            self.cache[key] = raw
            return raw
        self.stack.append(name)
        outer, self.tainted = self.tainted, False
        try:
            result = self.render(parse(raw))
        except TemplateSyntaxError as exc:
            self.problems.append(Problem(self.path, f"the value of {name}: {exc}"))
            result = None
        finally:
            self.stack.pop()
            if self.tainted:
                self._tainted_names.add(key)
            self.tainted = outer or self.tainted
        self.cache[key] = result
        return result

    def expr(self, expr: Expr) -> str | None:
        outer, self.tainted = self.tainted, False
        try:
            value = self._expr(expr)
            if self.tainted and value:
                self.derived.add(value)
            return value
        finally:
            self.tainted = outer or self.tainted

    def _expr(self, expr: Expr) -> str | None:
        if isinstance(expr.name, str):
            name: str | None = expr.name
        else:
            name = self.render(expr.name)
            if name is not None:
                name = name.strip()
        if name is None:
            return None
        value = self.variable(name)
        if value is None:
            return None
        for f in expr.filters:
            value = FILTERS[f.name][0](value, *f.args)
        return value

    def render(self, parts: Parts) -> str | None:
        out: list[str] = []
        failed = False
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = self.expr(part)
                if value is None:
                    failed = True
                else:
                    out.append(value)
        return None if failed else "".join(out)

    def template(self, template: str) -> str | None:
        if "#" not in template:
            return template
        try:
            parts = parse(template)
        except TemplateSyntaxError as exc:
            self.problems.append(Problem(self.path, str(exc)))
            return None
        return self.render(parts)

    def raise_problems(self) -> None:
        if self.problems:
            raise SubstitutionError(
                list(self.problems),
                unresolved=list(self.unresolved.values()),
                cycles=[list(c) for c in self.cycles],
            )


def substitute(template: str, values: Mapping[str, str] | Values) -> str:
    """``template`` with every expression replaced; raises ``SubstitutionError``."""
    evaluator = _Evaluator(values if isinstance(values, Values) else Values(values))
    result = evaluator.template(template)
    evaluator.raise_problems()
    assert result is not None
    return result


def substitute_tree(data: Any, values: Mapping[str, str] | Values, *, path: str = "") -> Any:
    """A copy of ``data`` (dicts, lists, strings, numbers …) with every string substituted.

    Problems are collected over the whole tree with the path of each field
    (``containers[0].image``) and raised together as one ``SubstitutionError``.
    """
    evaluator = _Evaluator(values if isinstance(values, Values) else Values(values))

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, str):
            evaluator.path = where
            return evaluator.template(node)
        if isinstance(node, dict):
            return {k: walk(v, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        return node

    result = walk(data, path)
    evaluator.raise_problems()
    return result


def derived_secrets(
    data: Any, values: Mapping[str, str] | Values, sensitive: Iterable[str]
) -> set[str]:
    """The text of every expression in ``data`` whose value is computed from a sensitive
    variable (``sensitive`` names it): through a filter, a concatenation in another variable's
    value, or a nested expression. Such text is as secret as the value it came from.

    Never raises: what cannot be substituted yields nothing here (substitution itself reports it).
    """
    evaluator = _Evaluator(
        values if isinstance(values, Values) else Values(values),
        sensitive=frozenset(name.lower() for name in sensitive),
    )

    def walk(node: Any) -> None:
        if isinstance(node, str):
            evaluator.template(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(data)
    return evaluator.derived
