"""Parsing templates into literal text and ``#{…}`` expressions (cached: templates repeat)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .errors import TemplateSyntaxError
from .filters import _FILTER_NAMES, FILTERS


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
