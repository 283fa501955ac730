"""Variable substitution: ``#{Name}`` expressions in step properties and variable values.

Pure Python, no Django and no ``eval``. The syntax, in the spirit of Octopus Deploy:

- ``#{Name}`` is the value of ``Name`` (names are case-insensitive); a value may itself hold
  expressions, which are substituted in turn (``#{Prefix}-#{Environment.Name}``).
- An expression may hold expressions: ``#{Package[#{Ref}].Image}`` first resolves ``Ref``.
- ``##{`` writes a literal ``#{``.
- Filters after a ``|``: ``#{Name | ToLower}``, ``#{Name | Replace "a" "b" | ToUpper}``.

An undefined name, a reference cycle, an unknown filter or a malformed expression never yields a
silent literal: substitution raises ``SubstitutionError`` listing every offender it found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .substitution_filters import _FILTER_NAMES, FILTERS

__all__ = [
    "FILTERS",
    "SubstitutionError",
    "TemplateSyntaxError",
    "Values",
    "derived_secrets",
    "referenced_names",
    "substitute",
    "substitute_tree",
]


class TemplateSyntaxError(ValueError):
    """A malformed expression (unterminated ``#{``, empty name, unknown filter …)."""


@dataclass(frozen=True)
class Problem:
    """One offender: where it was found (a field path, may be empty) and what is wrong."""

    path: str
    message: str


class SubstitutionError(Exception):
    """Substitution failed. ``problems`` lists every offender, ``unresolved`` the undefined
    names (as written) and ``cycles`` each reference cycle as a list of names."""

    def __init__(
        self,
        problems: list[Problem],
        *,
        unresolved: list[str] | None = None,
        cycles: list[list[str]] | None = None,
    ):
        self.problems = problems
        self.unresolved = unresolved or []
        self.cycles = cycles or []
        super().__init__("; ".join(self.messages()))

    def messages(self) -> list[str]:
        return [f"{p.path}: {p.message}" if p.path else p.message for p in self.problems]

    def field_errors(self, prefix: str = "") -> dict[str, list[str]]:
        """The problems as ``{path: [messages]}`` for a 400 response."""
        errors: dict[str, list[str]] = {}
        for p in self.problems:
            key = f"{prefix}.{p.path}" if prefix and p.path else (p.path or prefix or "detail")
            errors.setdefault(key, []).append(p.message)
        return errors


# Parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Expr:
    """``#{…}``: a name (text, or parts holding nested expressions) and its filters."""

    name: str | tuple[str | Expr, ...]
    filters: tuple[Filter, ...] = ()


Parts = tuple[str | Expr, ...]


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the expression whose body starts at ``start``."""
    depth, i, n, quoted = 1, start, len(text), False
    while i < n:
        c = text[i]
        if quoted:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "#" and text.startswith("#{", i):
            depth += 1
            i += 2
            continue
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise TemplateSyntaxError(f"'#{{{text[start : start + 30]}' is not closed with '}}'")


def _split_pipes(body: str) -> list[str]:
    """Split at ``|`` outside quotes and nested expressions."""
    pieces, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(body):
        c = body[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif body.startswith("#{", i):
            depth += 1
            i += 1
        elif c == "}":
            depth -= 1
        elif c == "|" and depth == 0:
            pieces.append(body[start:i])
            start = i + 1
        i += 1
    pieces.append(body[start:])
    return pieces


def _filter_args(text: str) -> list[str]:
    args, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text[i] == '"':
            out, i = [], i + 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise TemplateSyntaxError(f"a quoted filter argument is not closed in '{text}'")
            args.append("".join(out))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            args.append(text[i:j])
            i = j
    return args


def _parse_filter(text: str) -> Filter:
    text = text.strip()
    name, _, rest = text.partition(" ")
    spec = FILTERS.get(name.lower())
    if spec is None:
        if not name:
            raise TemplateSyntaxError("an empty filter after '|'")
        raise TemplateSyntaxError(f"unknown filter '{name}' (known: {_FILTER_NAMES})")
    args = tuple(_filter_args(rest))
    _, least, most = spec
    if not least <= len(args) <= most:
        expected = str(least) if least == most else f"{least} to {most}"
        raise TemplateSyntaxError(f"filter {name} takes {expected} argument(s), got {len(args)}")
    if name.lower() == "truncate" and not args[0].isdigit():
        raise TemplateSyntaxError("filter Truncate takes a whole number")
    return Filter(name.lower(), args)


def _parse_expr(body: str) -> Expr:
    pieces = _split_pipes(body)
    name_text = pieces[0].strip()
    if not name_text:
        raise TemplateSyntaxError("an expression '#{}' without a name")
    name_parts = parse(name_text)
    name: str | Parts = (
        name_parts[0] if len(name_parts) == 1 and isinstance(name_parts[0], str) else name_parts
    )
    return Expr(name, tuple(_parse_filter(p) for p in pieces[1:]))


@lru_cache(maxsize=16384)
def parse(text: str) -> Parts:
    """Split a template into literal text and expressions. Cached: templates repeat a lot."""
    parts: list[str | Expr] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("#", i)
        if j < 0:
            buf.append(text[i:])
            break
        buf.append(text[i:j])
        if text.startswith("##{", j):
            buf.append("#{")
            i = j + 3
        elif text.startswith("#{", j):
            end = _closing_brace(text, j + 2)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(_parse_expr(text[j + 2 : end]))
            i = end + 1
        else:
            buf.append("#")
            i = j + 1
    if buf and "".join(buf):
        parts.append("".join(buf))
    return tuple(parts)


def _names_in(parts: Parts, out: set[str]) -> None:
    for part in parts:
        if isinstance(part, Expr):
            if isinstance(part.name, str):
                out.add(part.name)
            else:
                _names_in(part.name, out)


def referenced_names(template: str) -> set[str]:
    """The names a template refers to directly (names built from nested expressions are left
    out, their inner names are in). Raises ``TemplateSyntaxError``."""
    out: set[str] = set()
    _names_in(parse(template), out)
    return out


# Evaluation ---------------------------------------------------------------------------------


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
