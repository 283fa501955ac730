"""Which value of a variable applies where: names, scopes, precedence, system variables.

Plain data in, plain data out, so the deployment engine runs the same rules on a release's
frozen snapshot as the editors run on the live set (``releases.variables`` reads and writes it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models import Variable
from .substitution import Values, derived_secrets, substitute

if TYPE_CHECKING:
    from .models import Environment, Project

NAME_RE = re.compile(r"^[^\W\d][\w.\-]*(\[[\w.\- ]+\][\w.\-]*)*$")
SYSTEM_NAMES = (
    "Project.Name",
    "Project.Slug",
    "Environment.Name",
    "Environment.Slug",
    "Release.Number",
    "Release.Notes",
    "Deployment.Id",
)
PACKAGE_FIELDS = ("PackageId", "Version", "Image", "Digest", "FeedId")
_SYSTEM_PREFIXES = ("project.", "environment.", "release.", "deployment.", "package[")
_PACKAGE_NAME_RE = re.compile(
    r"^package\[[^\]]+\]\.(" + "|".join(f.lower() for f in PACKAGE_FIELDS) + r")$"
)


@dataclass(frozen=True)
class VariableSpec:
    """A variable as resolution sees it; ``environments`` holds environment ids (empty:
    unscoped). Releases snapshot variables in this shape."""

    name: str
    value: str
    type: str = Variable.Type.TEXT
    environments: frozenset[int] = frozenset()

    @property
    def sensitive(self) -> bool:
        return self.type == Variable.Type.SENSITIVE


@dataclass(frozen=True)
class PackageInfo:
    """The package version a step deploys, as ``Package[<ref>].*`` system variables see it."""

    package_id: str
    version: str
    image: str
    digest: str = ""
    feed_id: str = ""


def is_system_name(name: str) -> bool:
    return name.lower().startswith(_SYSTEM_PREFIXES)


def is_known_system_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in {n.lower() for n in SYSTEM_NAMES} or bool(_PACKAGE_NAME_RE.match(lowered))


def variables_resolve(variables: Iterable[VariableSpec], environment: int | None) -> dict[str, str]:
    """The value of each name in ``environment`` (an id; ``None``: unscoped values only).

    A value scoped to the environment beats an unscoped one. Saved sets never hold two values
    of equal specificity for one environment; a snapshot that does is refused, not guessed.
    """
    chosen: dict[str, tuple[int, VariableSpec]] = {}
    for spec in variables:
        if spec.environments:
            if environment not in spec.environments:
                continue
            rank = 1
        else:
            rank = 0
        key = spec.name.lower()
        current = chosen.get(key)
        if current is None or rank > current[0]:
            chosen[key] = (rank, spec)
        elif rank == current[0]:
            raise ValueError(f"two values of {spec.name} apply equally; the set is not valid")
    return {spec.name: spec.value for _, spec in chosen.values()}


def system_variables(
    *,
    project: Project,
    environment: Environment,
    release_number: str = "",
    release_notes: str = "",
    deployment_id: str = "",
    packages: Mapping[str, PackageInfo] | None = None,
) -> dict[str, str]:
    values = {
        "Project.Name": project.name,
        "Project.Slug": project.slug,
        "Environment.Name": environment.name,
        "Environment.Slug": environment.slug,
        "Release.Number": release_number,
        "Release.Notes": release_notes,
        "Deployment.Id": deployment_id,
    }
    values.update(package_variables(packages or {}))
    return values


def package_variables(packages: Mapping[str, PackageInfo]) -> dict[str, str]:
    """``Package[<ref>].PackageId|Version|Image|Digest|FeedId`` for each package reference."""
    values = {}
    for ref, info in packages.items():
        values[f"Package[{ref}].PackageId"] = info.package_id
        values[f"Package[{ref}].Version"] = info.version
        values[f"Package[{ref}].Image"] = info.image
        values[f"Package[{ref}].Digest"] = info.digest
        values[f"Package[{ref}].FeedId"] = info.feed_id
    return values


def sensitive_values(variables: Iterable[VariableSpec]) -> list[str]:
    return [spec.value for spec in variables if spec.sensitive and spec.value]


# Derived text this short is not masked, like the derived forms of tiny secrets: masking every
# "a" in a log would make it unreadable and hide nothing a reader could not guess.
MIN_DERIVED_SECRET = 4


def secrets_to_mask(
    variables: Sequence[VariableSpec], values: Mapping[str, str], templates: Any
) -> list[str]:
    """Every text a preview or a deployment log must mask: each sensitive value, and the value
    of every expression in ``templates`` (step properties) computed from one — a filter
    (``#{DbPassword | Truncate 14}``), another variable built from it, a nested expression."""
    secrets = sensitive_values(variables)
    names = {spec.name for spec in variables if spec.sensitive}
    if names:
        derived = derived_secrets(templates, values, names)
        secrets += sorted(d for d in derived if len(d) >= MIN_DERIVED_SECRET)
    return secrets


def variables_clashes(variables: Sequence[VariableSpec], env_names: Mapping[int, str]) -> dict:
    """``{index: message}`` for every value that clashes with an earlier one of its name."""
    by_name: dict[str, list[int]] = defaultdict(list)
    for index, spec in enumerate(variables):
        by_name[spec.name.lower()].append(index)
    clashes: dict[int, str] = {}
    for indexes in by_name.values():
        if len(indexes) < 2:
            continue
        seen_unscoped: int | None = None
        seen_env: dict[int, int] = {}
        for index in indexes:
            spec = variables[index]
            if not spec.environments:
                if seen_unscoped is not None:
                    clashes[index] = (
                        f"{spec.name} already has an unscoped value (row {seen_unscoped + 1}); "
                        "two unscoped values would apply equally everywhere."
                    )
                seen_unscoped = index if seen_unscoped is None else seen_unscoped
                continue
            for env_id in sorted(spec.environments, key=lambda e: env_names.get(e, "")):
                if env_id in seen_env:
                    clashes[index] = (
                        f"{spec.name} already has a value for {env_names.get(env_id, env_id)} "
                        f"(row {seen_env[env_id] + 1}); two values scoped to the same environment "
                        "would apply equally there. Give each environment at most one value."
                    )
                    break
            for env_id in spec.environments:
                seen_env.setdefault(env_id, index)
    return clashes


def variables_cycles(variables: Sequence[VariableSpec], environments: Iterable[int]) -> list[str]:
    """Reference cycles among the values, in any environment (or none)."""
    templated = [spec for spec in variables if "#{" in spec.value]
    if not templated:
        return []
    found: dict[frozenset[str], str] = {}
    for env_id in [None, *environments]:
        values = Values(variables_resolve(variables, env_id))
        for spec in templated:
            if values.get(spec.name) is None:
                continue
            try:
                substitute(f"#{{{spec.name}}}", values)
            except Exception as exc:  # noqa: BLE001 - only cycles are kept, below
                for cycle in getattr(exc, "cycles", []):
                    found.setdefault(frozenset(c.lower() for c in cycle), " → ".join(cycle))
    return list(found.values())
