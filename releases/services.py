"""Writes and rules for environments, lifecycles and projects.

Every create/update/delete runs in a transaction, validates with ``full_clean()`` and records an
audit event. The web UI and the REST API both call these functions.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.access import Action, require
from deployserver.core.audit import (
    assign_fields,
    audit_record,
    audited_delete,
    audited_save,
    diff,
    snapshot,
)
from deployserver.core.models import AuditEvent

from .channels import channel_default_create
from .models import Environment, Lifecycle, Phase, PhaseEnvironment, Project, Release
from .selectors import lifecycle_default_get

ENVIRONMENT_FIELDS = (
    "name",
    "slug",
    "description",
    "sort_order",
    "requires_approval",
    "approval_by_other",
)
LIFECYCLE_FIELDS = ("name", "slug", "description", "retention_releases", "retention_days")
PROJECT_FIELDS = ("name", "slug", "description", "lifecycle", "version_template", "pin_digest")


@dataclass
class PhaseSpec:
    """A phase as the UI and the API submit it."""

    name: str
    environments: Sequence[Environment] = ()
    automatic_environments: Sequence[Environment] = ()
    is_optional: bool = False
    minimum_environments: int = 0


# Environments -------------------------------------------------------------------------------


@transaction.atomic
def environment_create(*, user, **data) -> Environment:
    require(user, Action.ADMIN)
    if "sort_order" not in data:
        last = (
            Environment.objects.order_by("-sort_order").values_list("sort_order", flat=True).first()
        )
        data["sort_order"] = 0 if last is None else last + 1
    return audited_save(Environment(), user=user, data=data, fields=ENVIRONMENT_FIELDS)


@transaction.atomic
def environment_update(*, environment: Environment, user, **data) -> Environment:
    require(user, Action.ADMIN)
    return audited_save(environment, user=user, data=data, fields=ENVIRONMENT_FIELDS)


@transaction.atomic
def environment_delete(*, environment: Environment, user) -> None:
    require(user, Action.ADMIN)
    lifecycles = sorted(
        set(
            PhaseEnvironment.objects.filter(environment=environment).values_list(
                "lifecycle__name", flat=True
            )
        )
    )
    if lifecycles:
        raise ValidationError(
            f"Environment {environment.name} is used by the lifecycle"
            f"{'s' if len(lifecycles) > 1 else ''} {', '.join(lifecycles)}; "
            "remove it from their phases first."
        )
    audited_delete(environment, user=user)


# Lifecycles ---------------------------------------------------------------------------------


def _validate_phases(phases: Sequence[PhaseSpec]) -> None:
    errors: list[str] = []
    names: set[str] = set()
    seen: dict[int, str] = {}
    for index, spec in enumerate(phases, start=1):
        label = f"Phase {index}" + (f" ({spec.name})" if spec.name else "")
        name = (spec.name or "").strip()
        if not name:
            errors.append(f"{label}: a phase needs a name.")
        elif name.lower() in names:
            errors.append(f"{label}: another phase is already called {name}.")
        names.add(name.lower())
        env_ids = [e.pk for e in spec.environments]
        for env in spec.environments:
            if env_ids.count(env.pk) > 1:
                errors.append(f"{label}: environment {env.name} is named more than once.")
                break
        if not spec.environments:
            errors.append(f"{label}: pick at least one environment.")
        for env in spec.environments:
            if env.pk in seen and seen[env.pk] != label:
                errors.append(
                    f"{label}: environment {env.name} is already in {seen[env.pk]}; "
                    "an environment belongs to one phase of a lifecycle."
                )
            seen.setdefault(env.pk, label)
        for env in spec.automatic_environments:
            if env.pk not in env_ids:
                errors.append(
                    f"{label}: {env.name} is automatic but not one of the phase's environments."
                )
        if spec.minimum_environments < 0 or spec.minimum_environments > len(set(env_ids)):
            errors.append(
                f"{label}: the minimum number of environments must be between 0 (all) "
                f"and {len(set(env_ids))}."
            )
    if errors:
        raise ValidationError({"phases": errors})


def _phases_summary(lifecycle: Lifecycle) -> list[dict]:
    return [
        {
            "name": phase.name,
            "optional": phase.is_optional,
            "minimum_environments": phase.minimum_environments,
            "environments": [pe.environment.name for pe in phase.phase_environments.all()],
            "automatic": [
                pe.environment.name for pe in phase.phase_environments.all() if pe.automatic
            ],
        }
        for phase in lifecycle.phases.prefetch_related("phase_environments__environment")
    ]


def _write_phases(lifecycle: Lifecycle, phases: Sequence[PhaseSpec]) -> None:
    lifecycle.phases.all().delete()
    rows = []
    for order, spec in enumerate(phases):
        phase = Phase(
            lifecycle=lifecycle,
            name=spec.name.strip(),
            sort_order=order,
            is_optional=spec.is_optional,
            minimum_environments=spec.minimum_environments,
        )
        phase.full_clean(exclude=["lifecycle"])
        phase.save()
        automatic = {e.pk for e in spec.automatic_environments}
        rows += [
            PhaseEnvironment(
                phase=phase, lifecycle=lifecycle, environment=env, automatic=env.pk in automatic
            )
            for env in spec.environments
        ]
    PhaseEnvironment.objects.bulk_create(rows)


@transaction.atomic
def lifecycle_create(*, user, phases: Sequence[PhaseSpec] = (), **data) -> Lifecycle:
    require(user, Action.ADMIN)
    _validate_phases(phases)
    lifecycle = Lifecycle()
    assign_fields(lifecycle, data, LIFECYCLE_FIELDS)
    lifecycle.full_clean()
    lifecycle.save()
    _write_phases(lifecycle, phases)
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=lifecycle,
        summary=f"Created lifecycle {lifecycle}",
        changes={**snapshot(lifecycle), "phases": _phases_summary(lifecycle)},
    )
    return lifecycle


@transaction.atomic
def lifecycle_update(
    *, lifecycle: Lifecycle, user, phases: Sequence[PhaseSpec] | None = None, **data
) -> Lifecycle:
    """Update a lifecycle; ``phases``, when given, replaces all of its phases."""
    require(user, Action.ADMIN)
    before = {**snapshot(lifecycle), "phases": _phases_summary(lifecycle)}
    assign_fields(lifecycle, data, LIFECYCLE_FIELDS)
    lifecycle.full_clean()
    if phases is not None:
        _validate_phases(phases)
    lifecycle.save()
    if phases is not None:
        _write_phases(lifecycle, phases)
    changes = diff(before, {**snapshot(lifecycle), "phases": _phases_summary(lifecycle)})
    if changes:
        audit_record(
            user=user,
            action=AuditEvent.Action.UPDATE,
            obj=lifecycle,
            summary=f"Updated lifecycle {lifecycle}: {', '.join(sorted(changes))}",
            changes=changes,
        )
    return lifecycle


@transaction.atomic
def lifecycle_delete(*, lifecycle: Lifecycle, user) -> None:
    require(user, Action.ADMIN)
    if lifecycle.is_default:
        raise ValidationError("The default lifecycle cannot be deleted.")
    projects = list(lifecycle.projects.order_by("name").values_list("name", flat=True)[:5])
    if projects:
        raise ValidationError(
            f"Lifecycle {lifecycle.name} is used by the project{'s' if len(projects) > 1 else ''} "
            f"{', '.join(projects)}; move them to another lifecycle first."
        )
    audited_delete(lifecycle, user=user)


def lifecycle_default() -> Lifecycle:
    """The default lifecycle (one phase per environment, in order), created when missing.

    For writes only (a project saved without a lifecycle); pages read ``lifecycle_default_get``.
    """
    lifecycle = lifecycle_default_get()
    if lifecycle is None:
        lifecycle, _ = Lifecycle.objects.get_or_create(
            slug="default",
            defaults={
                "name": "Default Lifecycle",
                "is_default": True,
                "description": "One phase per environment, in order.",
            },
        )
    return lifecycle


# Projects -----------------------------------------------------------------------------------


@transaction.atomic
def project_create(*, user, **data) -> Project:
    require(user, Action.ADMIN)
    if data.get("lifecycle") is None:
        data["lifecycle"] = lifecycle_default()
    project = audited_save(Project(), user=user, data=data, fields=PROJECT_FIELDS)
    channel_default_create(project)
    return project


@transaction.atomic
def project_update(*, project: Project, user, **data) -> Project:
    require(user, Action.EDIT, project)
    if "lifecycle" in data and data["lifecycle"] is None:
        data["lifecycle"] = lifecycle_default()
    return audited_save(project, user=user, data=data, fields=PROJECT_FIELDS)


@transaction.atomic
def project_delete(*, project: Project, user) -> None:
    """Delete a project that was never deployed; one with deployment history stays."""
    require(user, Action.ADMIN)
    # Queueing a deployment locks its release row first: holding them, none can slip in.
    list(Release.objects.select_for_update().filter(project=project).values_list("pk"))
    if Release.objects.filter(project=project, deployments__isnull=False).exists():
        raise ValidationError(
            f"{project.name} has been deployed; it stays so that its deployment history and "
            "logs are kept."
        )
    audited_delete(project, user=user)
