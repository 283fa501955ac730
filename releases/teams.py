"""Writes and reads of teams and grants (the rule that reads them is ``core.access``).

Only administrators manage teams; every change is audited with what changed. A grant names
projects and environments (an empty list means all of them, present and future).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.access import ROLE_ACTIONS, Action, access_for, access_forget, require
from deployserver.core.audit import audit_record
from deployserver.core.models import ApiKey, AuditEvent, Grant, Role, Team

from .models import Environment, Project


@dataclass(frozen=True)
class GrantSpec:
    """A grant as given: a role, projects and environments (empty: all)."""

    role: str
    projects: tuple[Project, ...] = ()
    environments: tuple[Environment, ...] = ()

    def describe(self) -> str:
        projects = ", ".join(p.slug for p in self.projects) or "all projects"
        environments = ", ".join(e.slug for e in self.environments) or "all environments"
        return f"{self.role} on {projects} × {environments}"


def grant_specs(grants) -> list[GrantSpec]:
    """The stored grants of a team or a key, as specs (one query per relation, prefetched)."""
    return [
        GrantSpec(
            role=g.role,
            projects=tuple(g.projects.all()) if not g.all_projects else (),
            environments=tuple(g.environments.all()) if not g.all_environments else (),
        )
        for g in grants.prefetch_related("projects", "environments")
    ]


def _write_grants(owner: dict, specs: list[GrantSpec]) -> None:
    Grant.objects.filter(**owner).delete()
    for spec in specs:
        if spec.role not in Role.values:
            raise ValidationError({"grants": [f"Unknown role '{spec.role}'."]})
        grant = Grant.objects.create(
            **owner,
            role=spec.role,
            all_projects=not spec.projects,
            all_environments=not spec.environments,
        )
        grant.projects.set(spec.projects)
        grant.environments.set(spec.environments)


@transaction.atomic
def team_save(
    *,
    team: Team | None,
    user,
    name: str,
    description: str = "",
    members: list | None = None,
    grants: list[GrantSpec] | None = None,
) -> Team:
    """Create (``team`` None) or update a team: its name, members and grants (all replaced)."""
    require(user, Action.ADMIN)
    creating = team is None
    team = team or Team()
    before = {} if creating else _state(team)
    team.name, team.description = name, description
    team.full_clean()
    team.save()
    if members is not None:
        team.members.set(members)
    if grants is not None:
        _write_grants({"team": team}, grants)
    after = _state(team)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        audit_record(
            user=user,
            action=AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE,
            obj=team,
            summary=f"{'Created' if creating else 'Updated'} team {team.name}: "
            + ", ".join(sorted(changes)),
            changes=changes,
        )
    access_forget(user)
    return team


def _state(team: Team) -> dict:
    return {
        "name": team.name,
        "description": team.description,
        "members": sorted(team.members.values_list("username", flat=True)),
        "grants": [spec.describe() for spec in grant_specs(team.grants.all())],
    }


@transaction.atomic
def team_delete(*, team: Team, user) -> None:
    require(user, Action.ADMIN)
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=team,
        summary=f"Deleted team {team.name}",
        changes=_state(team),
    )
    team.delete()
    access_forget(user)


@transaction.atomic
def api_key_narrow(*, api_key: ApiKey, user, grants: list[GrantSpec]) -> ApiKey:
    """Narrow a key to ``grants`` (within its user's; none: the key acts as its user again)."""
    if api_key.user_id != getattr(user, "pk", None):
        require(user, Action.ADMIN)
    _write_grants({"api_key": api_key}, grants)
    api_key.narrowed = bool(grants)
    api_key.save(update_fields=["narrowed"])
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=api_key,
        summary=f"API key {api_key.prefix}… "
        + (
            "narrowed to " + "; ".join(g.describe() for g in grants)
            if grants
            else "acts as its user"
        ),
    )
    return api_key


def permission_matrix(user) -> dict:
    """What ``user`` may do, per project × environment: ``{"projects", "environments", "rows"}``;
    each row ``(project, [sorted actions per environment])``, only projects they see."""
    access = access_for(user)
    environments = list(Environment.objects.order_by("sort_order", "name"))
    projects = list(access.projects(Project.objects.order_by("name")))
    actions = [a for a in Action if a != Action.ADMIN]
    rows = []
    for project in projects:
        rows.append(
            (
                project,
                [
                    [a.value for a in actions if access.allows(a, project, env)]
                    for env in environments
                ],
            )
        )
    return {
        "is_admin": access.is_admin,
        "environments": environments,
        "rows": rows,
    }


def user_named(username: str):
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise ValidationError({"members": [f"There is no user called '{username}'."]}) from None


__all__ = ["ROLE_ACTIONS", "GrantSpec", "api_key_narrow", "team_delete", "team_save"]
