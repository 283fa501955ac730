"""The one permission rule: may this user do this action on project P in environment E?

Every caller asks here — API views, pages, the admin, list filters and the services themselves —
and refusals carry the same reason wherever they are shown.

Rules kept here:

- A user's permissions are the union of their teams' grants; a grant is a role over projects
  (all, or a list) × environments (all, or a list). Superusers are administrators.
- An API key acts as its user; a *narrowed* key may do only what both its user and its own
  grants allow.
- An action on a project without an environment (read it, create a release, edit its process)
  needs a grant covering the project in at least one environment; an action in an environment
  (deploy, approve, read its deployments) needs one covering that pair. Administration (AWS
  accounts, feeds, environments, lifecycles, teams, new projects) needs the admin role over every
  project and every environment.
- Automatic work (triggers, automatic environments, expiry) acts as the system: ``user=None``.
- A user's grants are read once per request (one query; two for a narrowed key) and kept on the
  user object; lists are filtered in SQL by the ``Q`` objects built from them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Value

from .audit import audit_refusal
from .models import AuditEvent, Grant, Role


class Action(StrEnum):
    VIEW = "view"
    RELEASE = "release"  # create (and publish) releases
    DEPLOY = "deploy"  # deploy, promote, redeploy, cancel
    EDIT = "edit"  # project settings, process, variables, channels, triggers
    APPROVE = "approve"
    ADMIN = "admin"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.VIEW}),
    Role.DEPLOYER: frozenset({Action.VIEW, Action.RELEASE, Action.DEPLOY}),
    Role.PROJECT_EDITOR: frozenset({Action.VIEW, Action.RELEASE, Action.DEPLOY, Action.EDIT}),
    Role.APPROVER: frozenset({Action.VIEW, Action.APPROVE}),
    Role.ADMIN: frozenset(Action),
}

# The least role that allows an action, for the reasons given.
ACTION_ROLE = {
    Action.VIEW: Role.VIEWER,
    Action.RELEASE: Role.DEPLOYER,
    Action.DEPLOY: Role.DEPLOYER,
    Action.EDIT: Role.PROJECT_EDITOR,
    Action.APPROVE: Role.APPROVER,
    Action.ADMIN: Role.ADMIN,
}

# "You may <verb> <project> …"
VERBS = {
    Action.VIEW: "see",
    Action.RELEASE: "create releases of",
    Action.DEPLOY: "deploy",
    Action.EDIT: "edit",
    Action.APPROVE: "approve deployments of",
    Action.ADMIN: "administer",
}


class AccessDenied(PermissionDenied):
    """A refusal with its reason; the API answers 403 with it, a page shows it.

    ``write`` refusals are written to the audit log (rate-limited) where they are answered.
    """

    def __init__(
        self, reason: str, *, user=None, action="", project=None, environment=None, write=True
    ):
        super().__init__(reason)
        self.reason, self.user, self.action, self.write = reason, user, str(action), write
        self.project, self.environment = project, environment

    def record(self) -> None:
        """Write the refusal to the audit log if it refused a write (rate-limited)."""
        if self.write:
            audit_refusal(
                user=self.user,
                action=self.action,
                project=self.project,
                environment=self.environment,
                reason=self.reason,
            )


@dataclass(frozen=True, slots=True)
class Scope:
    """One grant as data: what it allows, over which project and environment ids (None: all)."""

    role: str
    projects: frozenset[int] | None
    environments: frozenset[int] | None

    @property
    def actions(self) -> frozenset[Action]:
        return ROLE_ACTIONS[self.role]

    def covers(self, action: Action, project_id: int | None, environment_id: int | None) -> bool:
        if action not in self.actions:
            return False
        if action == Action.ADMIN:
            return self.projects is None and self.environments is None
        outside_projects = self.projects is not None and project_id not in self.projects
        outside_environments = (
            self.environments is not None and environment_id not in self.environments
        )
        return not (
            (project_id is not None and outside_projects)
            or (environment_id is not None and outside_environments)
        )

    def q(self, project_field: str | None, environment_field: str | None) -> Q:
        q = Q()
        if project_field and self.projects is not None:
            q &= Q(**{f"{project_field}__in": sorted(self.projects)})
        if environment_field and self.environments is not None:
            q &= Q(**{f"{environment_field}__in": sorted(self.environments)})
        return q


def _scopes(grants: QuerySet[Grant]) -> list[Scope]:
    """Read grants and their project and environment ids in one query: a UNION whose second
    half carries the environment ids in the project column, told apart by the last column."""
    base = grants.order_by()
    head = ("id", "role", "all_projects", "all_environments")
    rows = base.values_list(*head, "projects", Value(0)).union(
        base.values_list(*head, "environments", Value(1)), all=True
    )
    found: dict[int, tuple[str, bool, bool, set[int], set[int]]] = {}
    for pk, role, all_projects, all_environments, ref, is_environment in rows:
        entry = found.setdefault(pk, (role, all_projects, all_environments, set(), set()))
        if ref is not None:
            entry[4 if is_environment else 3].add(ref)
    return [
        Scope(
            role=role,
            projects=None if all_projects else frozenset(projects),
            environments=None if all_environments else frozenset(environments),
        )
        for role, all_projects, all_environments, projects, environments in found.values()
    ]


@dataclass
class Access:
    """What one caller may do. Build it with ``access_for``; never by hand outside tests."""

    user: object = None
    superuser: bool = False
    system: bool = False
    scopes: list[Scope] = field(default_factory=list)
    key_scopes: list[Scope] | None = None  # a narrowed API key's own grants

    # Questions ------------------------------------------------------------------------------

    def _layers(self) -> list[list[Scope]]:
        layers = [] if self.superuser else [self.scopes]
        if self.key_scopes is not None:
            layers.append(self.key_scopes)
        return layers

    def allows(self, action: Action | str, project=None, environment=None) -> bool:
        if self.system:
            return True
        action = Action(action)
        project_id = getattr(project, "pk", project)
        environment_id = getattr(environment, "pk", environment)
        return all(
            any(s.covers(action, project_id, environment_id) for s in layer)
            for layer in self._layers()
        )

    @property
    def is_admin(self) -> bool:
        return self.allows(Action.ADMIN)

    @property
    def sees_everything(self) -> bool:
        """Lists need no filter: no grant or key limits what this caller reads."""
        return self.system or self.is_admin

    @property
    def has_any_grant(self) -> bool:
        return self.system or self.superuser or bool(self.scopes)

    def reason(self, action: Action | str, project=None, environment=None) -> str | None:
        """Why ``action`` is refused, in words for the person refused; None when allowed."""
        if self.allows(action, project, environment):
            return None
        action = Action(action)
        role = ACTION_ROLE[action]
        by_user = self.superuser or any(
            s.covers(action, _pk(project), _pk(environment)) for s in self.scopes
        )
        key = "This API key is narrowed: " if self.key_scopes is not None and by_user else ""
        if action == Action.ADMIN:
            return f"{key}This needs the admin role over every project and environment."
        name = getattr(project, "name", None)
        if environment is None or project is None:
            what = f" {name}" if name else ""
            return f"{key}You may not {VERBS[action]}{what}: it needs the {role} role" + (
                " on it." if name else "."
            )
        allowed = self.environments_allowed(action, project)
        if allowed:
            names = _environment_names(allowed)
            return (
                f"{key}You may {VERBS[action]} {name} in {_and(names)}; "
                f"{environment.name} needs the {role} role there."
            )
        return f"{key}{environment.name} needs the {role} role for {name}; you have none there."

    def require(self, action: Action | str, project=None, environment=None, *, write=True):
        """Raise ``AccessDenied`` with the reason unless ``action`` is allowed."""
        reason = self.reason(action, project, environment)
        if reason is not None:
            raise AccessDenied(
                reason,
                user=self.user,
                action=action,
                project=project,
                environment=environment,
                write=write,
            )

    def environments_allowed(self, action: Action | str, project) -> set[int] | None:
        """Environment ids where ``action`` on ``project`` is allowed (None: all of them)."""
        if self.system:
            return None
        action, project_id = Action(action), _pk(project)
        result: set[int] | None = None
        for layer in self._layers():
            mine: set[int] | None = set()
            for scope in layer:
                if not scope.covers(action, project_id, None):
                    continue
                if scope.environments is None:
                    mine = None
                    break
                mine |= scope.environments
            if mine is None:
                continue
            result = mine if result is None else result & mine
        return result

    # Lists ----------------------------------------------------------------------------------

    def q(
        self,
        action: Action | str = Action.VIEW,
        *,
        project: str | None = "project_id",
        environment: str | None = None,
    ) -> Q | None:
        """A filter for rows whose project (and environment) the action is allowed on; None
        when nothing is filtered. The fields name the row's project and environment ids."""
        if self.sees_everything:
            return None
        action = Action(action)
        q = Q()
        for layer in self._layers():
            matching = [s for s in layer if action in s.actions]
            if not matching:
                return Q(pk__in=[])
            clauses = [scope.q(project, environment) for scope in matching]
            if any(not clause for clause in clauses):
                continue  # a grant over everything: this layer restricts nothing
            either = clauses[0]
            for clause in clauses[1:]:
                either |= clause
            q &= either
        return q

    def filter(self, queryset: QuerySet, action=Action.VIEW, **fields) -> QuerySet:
        q = self.q(action, **fields)
        return queryset if q is None else queryset.filter(q)

    def projects(self, queryset: QuerySet, action=Action.VIEW) -> QuerySet:
        """Projects the action is allowed on in at least one environment."""
        return self.filter(queryset, action, project="pk")

    def environments(self, queryset: QuerySet, action=Action.VIEW) -> QuerySet:
        """Environments the action is allowed in for at least one project."""
        return self.filter(queryset, action, project=None, environment="pk")


SYSTEM = Access(system=True)


def _pk(obj):
    return getattr(obj, "pk", obj)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _environment_names(ids: Iterable[int]) -> list[str]:
    Environment = apps.get_model("releases", "Environment")
    return list(Environment.objects.filter(pk__in=list(ids)).values_list("name", flat=True))


CACHE_ATTRIBUTE = "_deployserver_access"
KEY_ATTRIBUTE = "_deployserver_api_key"


def access_for(user) -> Access:
    """The caller's access, read once per user object (one per request) and kept on it.

    ``None`` is the system. An anonymous or inactive user may do nothing.
    """
    if user is None:
        return SYSTEM
    cached = getattr(user, CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        access = Access(user=user, key_scopes=[])
    else:
        key = getattr(user, KEY_ATTRIBUTE, None)
        key_scopes = _scopes(Grant.objects.filter(api_key=key)) if key and key.narrowed else None
        if user.is_superuser:
            access = Access(user=user, superuser=True, key_scopes=key_scopes)
        else:
            scopes = _scopes(Grant.objects.filter(team__members=user))
            access = Access(user=user, scopes=scopes, key_scopes=key_scopes)
    # A user object that takes no attributes is simply read again next time.
    with contextlib.suppress(AttributeError):
        setattr(user, CACHE_ATTRIBUTE, access)
    return access


def access_forget(user) -> None:
    """Drop the kept access (after the user's grants changed in this request)."""
    if user is not None and hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)


def require(user, action: Action | str, project=None, environment=None, *, write=True) -> None:
    """``access_for(user).require(...)``: the services' guard."""
    access_for(user).require(action, project, environment, write=write)


def audit_events_for(user) -> QuerySet[AuditEvent]:
    """The events ``user`` may read, newest first: administrators all of them; others those of
    the projects they see (an event in an environment: of the project × environments they see).
    Events about neither (AWS accounts, teams, sign-in locks) are for administrators."""
    events = AuditEvent.objects.order_by("-created_at", "-id")
    access = access_for(user)
    if access.sees_everything:
        return events
    in_project = access.q(project="project_id")
    in_environment = access.q(project="project_id", environment="environment_id")
    return events.filter(
        Q(project_id__isnull=False)
        & ((Q(environment_id__isnull=True) & in_project) | in_environment)
    )
