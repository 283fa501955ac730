"""Project variables: scoping, resolution for an environment, and the services that save them.

The resolution half (``VariableSpec``, ``variables_resolve``, ``system_variables``) works on
plain data so the deployment engine can run it on a release's frozen snapshot; the service half
(``variable_set_replace``) is what the variables grid and ``PUT /api/projects/{slug}/variables/``
both call.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from deployserver.audit import audit_record
from deployserver.models import AuditEvent, AwsAccount

from .models import Environment, Project, Variable, VariableScope
from .substitution import TemplateSyntaxError, Values, parse, referenced_names, substitute

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


# Resolution (plain data) --------------------------------------------------------------------


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


# Reads --------------------------------------------------------------------------------------


def variable_list(project: Project) -> QuerySet[Variable]:
    """A project's variables in grid order, scopes prefetched, secrets never decrypted."""
    scopes = VariableScope.objects.select_related("environment").order_by(
        "environment__sort_order", "environment__name"
    )
    return (
        Variable.objects.filter(project=project)
        .defer("secret_value")
        .prefetch_related(Prefetch("scopes", queryset=scopes))
        .order_by("sort_order", "id")
    )


def variable_rows(project: Project) -> list[dict]:
    """The grid's and the API's rows: ``id, name, type, value, environments`` (slugs, in
    environment order); ``value`` is ``None`` for sensitive rows, which are never decrypted.

    Hot path for big sets: two queries and plain tuples, no model instances (building 10,000
    instances with their prefetched scopes costs seconds).
    """
    scopes: dict[int, list[str]] = defaultdict(list)
    for variable_id, slug in (
        VariableScope.objects.filter(variable__project=project)
        .order_by("environment__sort_order", "environment__name")
        .values_list("variable_id", "environment__slug")
    ):
        scopes[variable_id].append(slug)
    return [
        {
            "id": pk,
            "name": name,
            "type": type_,
            "value": None if type_ == Variable.Type.SENSITIVE else value,
            "environments": scopes.get(pk, []),
        }
        for pk, name, type_, value in Variable.objects.filter(project=project)
        .order_by("sort_order", "id")
        .values_list("id", "name", "type", "value")
    ]


def variable_specs(project: Project) -> list[VariableSpec]:
    """The project's variables for resolution, sensitive values decrypted."""
    scope_rows = VariableScope.objects.filter(variable__project=project).values_list(
        "variable_id", "environment_id"
    )
    scopes: dict[int, set[int]] = defaultdict(set)
    for variable_id, environment_id in scope_rows:
        scopes[variable_id].add(environment_id)
    return [
        VariableSpec(
            name,
            secret if type_ == Variable.Type.SENSITIVE else value,
            type_,
            frozenset(scopes.get(pk, ())),
        )
        for pk, name, type_, value, secret in Variable.objects.filter(project=project)
        .order_by("sort_order", "id")
        .values_list("id", "name", "type", "value", "secret_value")
    ]


# Writes -------------------------------------------------------------------------------------


@dataclass
class VariableInput:
    """One row of the whole set, as the grid and the API submit it.

    ``id`` names an existing row (kept, updated); rows without one are new; existing rows left
    out are deleted. ``value=None`` on an existing sensitive row keeps the stored secret.
    ``environments`` are environment slugs.
    """

    name: str
    value: str | None = ""
    type: str = Variable.Type.TEXT
    environments: Sequence[str] = ()
    id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _check_value_syntax(row: VariableInput, value: str) -> list[str]:
    if "#{" not in value:
        return []
    try:
        parse(value)
    except TemplateSyntaxError as exc:
        if row.type == Variable.Type.SENSITIVE:
            return ["The value holds a malformed #{…} expression."]
        return [f"Malformed expression: {exc}."]
    return []


@transaction.atomic
def variable_set_replace(*, project: Project, rows: Sequence[VariableInput], user) -> list[dict]:
    """Replace the project's whole variable set: all rows are saved, or none (a 400 lists every
    problem as ``variables[<row>].<field>``)."""
    existing = {
        v.pk: v
        for v in Variable.objects.filter(project=project).select_for_update().defer("secret_value")
    }
    old_scopes: dict[int, set[int]] = defaultdict(set)
    for variable_id, environment_id in VariableScope.objects.filter(
        variable__project=project
    ).values_list("variable_id", "environment_id"):
        old_scopes[variable_id].add(environment_id)
    environments = {e.slug: e for e in Environment.objects.all()}
    env_names = {e.pk: e.name for e in environments.values()}
    account_slugs = set(AwsAccount.objects.values_list("slug", flat=True))
    valid_types = set(Variable.Type.values)

    errors: dict[str, list[str]] = {}

    def fail(index: int, name: str, message: str) -> None:
        errors.setdefault(f"variables[{index}].{name}", []).append(message)

    specs: list[VariableSpec] = []
    seen_ids: set[int] = set()
    for index, row in enumerate(rows):
        name = (row.name or "").strip()
        row.name = name
        if not name:
            fail(index, "name", "A variable needs a name.")
        elif len(name) > 200:
            fail(index, "name", "A name has at most 200 characters.")
        elif is_system_name(name):
            fail(
                index,
                "name",
                f"{name} is a system variable name; system variables are set "
                "by the server (Project.*, Environment.*, Release.*, Deployment.*, Package[…]).",
            )
        elif not NAME_RE.match(name):
            fail(
                index,
                "name",
                f"'{name}' is not a valid name: start with a letter, then use "
                "letters, digits, '.', '_', '-' and [index] parts, e.g. Color or Web.Port.",
            )
        if row.type not in valid_types:
            fail(index, "type", f"Choose one of {', '.join(sorted(valid_types))}.")
        current = None
        if row.id is not None:
            current = existing.get(row.id)
            if current is None:
                fail(index, "id", f"No variable {row.id} in project {project.slug}.")
            elif row.id in seen_ids:
                fail(index, "id", f"Variable {row.id} is listed twice.")
            seen_ids.add(row.id)
        value = row.value
        if row.type == Variable.Type.SENSITIVE:
            keeps = current is not None and current.is_sensitive
            if value is None and not keeps:
                fail(index, "value", "A new sensitive value is required.")
        elif value is None:
            value = ""
        if row.type == Variable.Type.AWS_ACCOUNT and value not in account_slugs:
            fail(index, "value", f"No AWS account '{value}'; give an account slug.")
        for message in _check_value_syntax(row, value or ""):
            fail(index, "value", message)
        env_ids = set()
        for slug in row.environments:
            env = environments.get(slug)
            if env is None:
                fail(index, "environments", f"No environment '{slug}'.")
            else:
                env_ids.add(env.pk)
        specs.append(VariableSpec(name, value or "", row.type, frozenset(env_ids)))

    for index, message in variables_clashes(specs, env_names).items():
        fail(index, "name", message)
    defined = {spec.name.lower() for spec in specs}
    for index, spec in enumerate(specs):
        if spec.sensitive or "#{" not in spec.value:
            continue
        try:
            names = referenced_names(spec.value)
        except TemplateSyntaxError:
            continue
        for ref in sorted(names):
            if ref.lower() not in defined and not is_known_system_name(ref):
                fail(index, "value", f"#{{{ref}}} is not defined.")
    if not errors:
        for cycle in variables_cycles(specs, env_names):
            errors.setdefault("variables", []).append(f"Reference cycle: {cycle}.")
    if errors:
        raise ValidationError(errors)
    return _write_rows(project, rows, specs, existing, old_scopes, user)


def _write_rows(project, rows, specs, existing, old_scopes, user) -> list[dict]:
    created, updated, secret_updated, rescoped = [], [], [], []
    added_names, changed_names = [], []
    desired: dict[int, set[int]] = {}
    for order, (row, spec) in enumerate(zip(rows, specs, strict=True)):
        sensitive = spec.sensitive
        if row.id is None:
            variable = Variable(
                project=project,
                name=spec.name,
                type=spec.type,
                value="" if sensitive else spec.value,
                secret_value=spec.value if sensitive else "",
                sort_order=order,
            )
            created.append((variable, spec))
            added_names.append(spec.name)
            continue
        variable = existing[row.id]
        new_secret = sensitive and row.value is not None
        dropped_secret = variable.is_sensitive and not sensitive
        before = (variable.name, variable.type, variable.value, variable.sort_order)
        variable.name, variable.type, variable.sort_order = spec.name, spec.type, order
        variable.value = "" if sensitive else spec.value
        if new_secret or dropped_secret:
            variable.secret_value = spec.value if sensitive else ""
            secret_updated.append(variable)
        elif before != (variable.name, variable.type, variable.value, variable.sort_order):
            updated.append(variable)
        if new_secret or dropped_secret or before[:3] != (spec.name, spec.type, variable.value):
            changed_names.append(spec.name)
        if old_scopes.get(row.id, set()) != set(spec.environments):
            rescoped.append(variable)
            if spec.name not in changed_names:
                changed_names.append(spec.name)
        desired[row.id] = set(spec.environments)

    kept_ids = {row.id for row in rows if row.id is not None}
    removed = [v for pk, v in existing.items() if pk not in kept_ids]
    if removed:
        Variable.objects.filter(pk__in=[v.pk for v in removed]).delete()
    now = timezone.now()
    for variable in [*updated, *secret_updated]:
        variable.updated_at = now
    fields = ["name", "type", "value", "sort_order", "updated_at"]
    Variable.objects.bulk_update(updated, fields, batch_size=1000)
    Variable.objects.bulk_update(secret_updated, [*fields, "secret_value"], batch_size=1000)
    Variable.objects.bulk_create([variable for variable, _ in created], batch_size=1000)
    VariableScope.objects.filter(variable__in=[v.pk for v in rescoped]).delete()
    scope_rows = [
        VariableScope(variable_id=v.pk, environment_id=env_id)
        for v in rescoped
        for env_id in desired[v.pk]
    ]
    for variable, spec in created:
        scope_rows += [
            VariableScope(variable_id=variable.pk, environment_id=e) for e in spec.environments
        ]
    VariableScope.objects.bulk_create(scope_rows, batch_size=2000)

    if added_names or changed_names or removed:
        parts = []
        for label, names in (
            ("added", added_names),
            ("changed", changed_names),
            ("removed", [v.name for v in removed]),
        ):
            if names:
                more = f" and {len(names) - 10} more" if len(names) > 10 else ""
                parts.append(f"{label} {', '.join(names[:10])}{more}")
        audit_record(
            user=user,
            action=AuditEvent.Action.UPDATE,
            obj=project,
            summary=f"Variables of {project}: " + "; ".join(parts),
            changes={
                "variables": {
                    "added": added_names,
                    "changed": changed_names,
                    "removed": [v.name for v in removed],
                }
            },
        )
    return variable_rows(project)
