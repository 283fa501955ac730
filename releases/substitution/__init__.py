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

from .errors import Problem, SubstitutionError, TemplateSyntaxError
from .evaluation import Values, derived_secrets, substitute, substitute_tree
from .filters import FILTERS
from .parsing import Expr, Filter, Parts, parse, referenced_names

__all__ = [
    "FILTERS",
    "Expr",
    "Filter",
    "Parts",
    "Problem",
    "SubstitutionError",
    "TemplateSyntaxError",
    "Values",
    "derived_secrets",
    "parse",
    "referenced_names",
    "substitute",
    "substitute_tree",
]
