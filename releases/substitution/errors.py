"""What substitution raises: a malformed template, or every offender found in one pass."""

from __future__ import annotations

from dataclasses import dataclass


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
