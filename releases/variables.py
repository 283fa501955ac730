"""Project variables: the reads and the services that save the whole set.

The resolution rules (``VariableSpec``, ``variables_resolve``, ``system_variables`` …) live in
``releases.scoping`` and are re-exported here; ``variable_set_replace`` is what the variables
grid and ``PUT /api/projects/{slug}/variables/`` both call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from deployserver.core.access import AccessDenied, Action, access_for
from deployserver.core.audit import audit_record
from deployserver.core.models import AuditEvent, AwsAccount

from .models import Environment, Project, Variable, VariableScope
from .scoping import (
    NAME_RE,
    PACKAGE_FIELDS,
    SYSTEM_NAMES,
    PackageInfo,
    VariableSpec,
    is_known_system_name,
    is_system_name,
    package_variables,
    secrets_to_mask,
    sensitive_values,
    system_variables,
    variables_clashes,
    variables_cycles,
    variables_resolve,
)
from .substitution import TemplateSyntaxError, parse, referenced_names

__all__ = [
    "NAME_RE",
    "PACKAGE_FIELDS",
    "SYSTEM_NAMES",
    "PackageInfo",
    "VariableInput",
    "VariableSpec",
    "is_known_system_name",
    "is_system_name",
    "package_variables",
    "secrets_to_mask",
    "sensitive_values",
    "system_variables",
    "variable_list",
    "variable_rows",
    "VariablesConflict",
    "variable_set_replace",
    "variable_specs",
    "variable_is_editable",
    "variables_edit_refusal",
    "variables_editable",
    "variables_restricted",
    "variables_clashes",
    "variables_cycles",
    "variables_resolve",
]


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


def variables_restricted(user, project: Project) -> set[int]:
    """Environment ids whose scoped values ``user`` may not read for ``project``: those where
    they may neither deploy nor edit it (empty for the system and administrators)."""
    access = access_for(user)
    readable = [access.environments_allowed(a, project) for a in (Action.DEPLOY, Action.EDIT)]
    if any(ids is None for ids in readable):
        return set()
    ids = set(Environment.objects.values_list("pk", flat=True))
    return ids - set().union(*readable)


def variables_edit_refusal(user, project: Project) -> str | None:
    """Why ``user`` may not save ``project``'s variables at all: they need the project-editor
    role in at least one environment (``variables_editable`` says which rows); None when they
    may."""
    return access_for(user).reason(Action.EDIT, project)


def variables_editable(user, project: Project) -> frozenset[int] | None:
    """The environments whose values ``user`` may change in ``project``'s variables: those where
    they have the project-editor role (None: every environment, scoped values and unscoped)."""
    allowed = access_for(user).environments_allowed(Action.EDIT, project)
    if allowed is None or allowed >= set(Environment.objects.values_list("pk", flat=True)):
        return None
    return frozenset(allowed)


def variable_is_editable(
    scopes: set[int] | frozenset[int], editable: frozenset[int] | None
) -> bool:
    """Whether a value scoped to ``scopes`` is one its editor may change, add or delete: with the
    role in only some environments, a value scoped to those alone (an unscoped value applies to
    every environment: it is theirs only with the role everywhere)."""
    return editable is None or bool(scopes) and set(scopes) <= editable


def variable_rows(
    project: Project,
    restricted: set[int] = frozenset(),
    editable: frozenset[int] | None = None,
) -> list[dict]:
    """The grid's and the API's rows: ``id, name, type, value, environments`` (slugs, in
    environment order); ``value`` is ``None`` for sensitive rows, which are never decrypted,
    and for rows scoped to a ``restricted`` environment (then ``restricted`` is true);
    ``editable`` says whether the reader may change the row (``variable_is_editable``).

    Hot path for big sets: two queries and plain tuples, no model instances (building 10,000
    instances with their prefetched scopes costs seconds).
    """
    scopes: dict[int, list[str]] = defaultdict(list)
    scope_ids: dict[int, set[int]] = defaultdict(set)
    hidden: set[int] = set()
    for variable_id, slug, environment_id in (
        VariableScope.objects.filter(variable__project=project)
        .order_by("environment__sort_order", "environment__name")
        .values_list("variable_id", "environment__slug", "environment_id")
    ):
        scopes[variable_id].append(slug)
        scope_ids[variable_id].add(environment_id)
        if environment_id in restricted:
            hidden.add(variable_id)
    return [
        {
            "id": pk,
            "name": name,
            "type": type_,
            "value": None if type_ == Variable.Type.SENSITIVE or pk in hidden else value,
            "environments": scopes.get(pk, []),
            "restricted": pk in hidden,
            "editable": variable_is_editable(scope_ids.get(pk, set()), editable),
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


class VariablesConflict(Exception):
    """The variable set changed since the editor loaded it (``version`` differs)."""


def _check_name(name: str) -> str | None:
    """Why ``name`` cannot name a variable, or None."""
    if not name:
        return "A variable needs a name."
    if len(name) > 200:
        return "A name has at most 200 characters."
    if is_system_name(name):
        return (
            f"{name} is a system variable name; system variables are set "
            "by the server (Project.*, Environment.*, Release.*, Deployment.*, Package[…])."
        )
    if not NAME_RE.match(name):
        return (
            f"'{name}' is not a valid name: start with a letter, then use "
            "letters, digits, '.', '_', '-' and [index] parts, e.g. Color or Web.Port."
        )
    return None


class _RowChecker:
    """Checks the rows of one save, collecting every problem as ``variables[<row>].<field>``."""

    def __init__(
        self,
        project: Project,
        existing: dict[int, Variable],
        old_scopes: dict[int, set[int]],
        editable: frozenset[int] | None,
    ):
        self.project = project
        self.existing = existing
        self.old_scopes = old_scopes
        self.editable = editable
        self.environments = {e.slug: e for e in Environment.objects.all()}
        self.env_names = {e.pk: e.name for e in self.environments.values()}
        self.account_slugs = set(AwsAccount.objects.values_list("slug", flat=True))
        self.valid_types = set(Variable.Type.values)
        self.seen_ids: set[int] = set()
        self.errors: dict[str, list[str]] = {}

    def fail(self, index: int, name: str, message: str) -> None:
        self.errors.setdefault(f"variables[{index}].{name}", []).append(message)

    def _current(self, index: int, row: VariableInput) -> Variable | None:
        if row.id is None:
            return None
        current = self.existing.get(row.id)
        if current is None:
            self.fail(index, "id", f"No variable {row.id} in project {self.project.slug}.")
        elif row.id in self.seen_ids:
            self.fail(index, "id", f"Variable {row.id} is listed twice.")
        self.seen_ids.add(row.id)
        return current

    def row(self, index: int, row: VariableInput) -> VariableSpec:
        name = (row.name or "").strip()
        row.name = name
        problem = _check_name(name)
        if problem:
            self.fail(index, "name", problem)
        if row.type not in self.valid_types:
            self.fail(index, "type", f"Choose one of {', '.join(sorted(self.valid_types))}.")
        current = self._current(index, row)
        theirs = current is None or self._editable(current)
        value = row.value
        if row.type == Variable.Type.SENSITIVE:
            keeps = current is not None and current.is_sensitive
            if value is None and not keeps:
                self.fail(index, "value", "A new sensitive value is required.")
        elif value is None:
            # A row its editor may not change comes back without the value they may not read.
            value = "" if theirs else current.value
        if row.type == Variable.Type.AWS_ACCOUNT and value not in self.account_slugs:
            self.fail(index, "value", f"No AWS account '{value}'; give an account slug.")
        for message in _check_value_syntax(row, value or ""):
            self.fail(index, "value", message)
        env_ids = set()
        for slug in row.environments:
            env = self.environments.get(slug)
            if env is None:
                self.fail(index, "environments", f"No environment '{slug}'.")
            else:
                env_ids.add(env.pk)
        if self.editable is not None:
            self._check_editable(index, row, current, theirs, env_ids)
        return VariableSpec(name, value or "", row.type, frozenset(env_ids))

    def _editable(self, variable: Variable) -> bool:
        return variable_is_editable(self.old_scopes.get(variable.pk, set()), self.editable)

    def _names(self, ids) -> str:
        names = [self.env_names[pk] for pk in ids if pk in self.env_names]
        return ", ".join(sorted(names)) or "every environment"

    def _check_editable(self, index, row, current, theirs: bool, env_ids: set[int]) -> None:
        """An editor with the role in some environments changes values scoped to those alone."""
        if theirs:
            if not variable_is_editable(env_ids, self.editable):
                self.fail(
                    index,
                    "environments",
                    "You may add or change only values scoped to environments where you edit "
                    f"the project ({self._names(self.editable)}).",
                )
            return
        unchanged = (
            row.name == current.name
            and row.type == current.type
            and env_ids == self.old_scopes.get(current.pk, set())
            and (row.value is None or (not current.is_sensitive and row.value == current.value))
        )
        if not unchanged:
            self.fail(
                index,
                "id",
                f"{current.name} applies to {self._names(self.old_scopes.get(current.pk, ()))}: "
                "only a project editor there may change it.",
            )

    def deletions(self) -> None:
        """Rows left out are deleted: by an editor who may change them."""
        if self.editable is None:
            return
        for pk, variable in self.existing.items():
            if pk not in self.seen_ids and not self._editable(variable):
                self.errors.setdefault("variables", []).append(
                    f"{variable.name} applies to {self._names(self.old_scopes.get(pk, ()))}: "
                    "only a project editor there may delete it."
                )

    def whole_set(self, specs: list[VariableSpec]) -> None:
        """Clashing names, references to undefined names, and (when all else is fine) cycles."""
        for index, message in variables_clashes(specs, self.env_names).items():
            self.fail(index, "name", message)
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
                    self.fail(index, "value", f"#{{{ref}}} is not defined.")
        if not self.errors:
            for cycle in variables_cycles(specs, self.env_names):
                self.errors.setdefault("variables", []).append(f"Reference cycle: {cycle}.")


def _validated_specs(
    project: Project,
    rows: Sequence[VariableInput],
    existing: dict[int, Variable],
    old_scopes: dict[int, set[int]],
    editable: frozenset[int] | None,
) -> list[VariableSpec]:
    """The rows as specs, or a ``ValidationError`` listing every problem."""
    checker = _RowChecker(project, existing, old_scopes, editable)
    specs = [checker.row(index, row) for index, row in enumerate(rows)]
    checker.deletions()
    checker.whole_set(specs)
    if checker.errors:
        raise ValidationError(checker.errors)
    return specs


@transaction.atomic
def variable_set_replace(
    *, project: Project, rows: Sequence[VariableInput], user, version: int | None = None
) -> list[dict]:
    """Replace the project's whole variable set: all rows are saved, or none (a 400 lists every
    problem as ``variables[<row>].<field>``).

    An editor with the project-editor role in only some environments saves the set with the
    other rows as they were (a row whose value they may not read comes back with ``value``
    None); they add, change and delete values scoped to their environments alone.

    ``version``, when given, must be the set's version the editor loaded (``variables_version``);
    saves of one project are serialised on its row, so of two editors of the same version one
    saves and the other gets ``VariablesConflict``.
    """
    refusal = variables_edit_refusal(user, project)
    if refusal:
        raise AccessDenied(refusal, user=user, action=Action.EDIT, project=project)
    current = Project.objects.select_for_update().values_list("variables_version", flat=True)
    stored_version = current.get(pk=project.pk)
    if version is not None and version != stored_version:
        raise VariablesConflict(
            f"The variables were changed by someone else (version {stored_version}, you edited "
            f"{version}); reload them and apply your changes again."
        )
    existing = {
        v.pk: v
        for v in Variable.objects.filter(project=project).select_for_update().defer("secret_value")
    }
    old_scopes: dict[int, set[int]] = defaultdict(set)
    for variable_id, environment_id in VariableScope.objects.filter(
        variable__project=project
    ).values_list("variable_id", "environment_id"):
        old_scopes[variable_id].add(environment_id)
    specs = _validated_specs(project, rows, existing, old_scopes, variables_editable(user, project))
    written = _write_rows(project, rows, specs, existing, old_scopes, user)
    project.variables_version = stored_version + 1
    Project.objects.filter(pk=project.pk).update(variables_version=project.variables_version)
    return written


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
