"""Reads of deployments: a release's standing in its lifecycle, the dashboard, release lists."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from deployserver.core.access import Access, access_for
from deployserver.core.models import Grant, Role
from releases.models import Environment, Lifecycle, Project, Release
from releases.promotion import Progression, release_progression
from releases.selectors import (
    EffectivePhase,
    environment_list,
    lifecycle_effective_phases,
    lifecycle_list,
)

from .models import Deployment


def release_progress(
    release: Release, environments: list[Environment] | None = None
) -> Progression:
    """Which environments ``release`` may be deployed to now, and why not the others."""
    return release_standing(release, environments).progression


def release_standing(release: Release, environments: list[Environment] | None = None) -> Standing:
    environments = environments if environments is not None else list(environment_list())
    return releases_standing([release], environments)[release.pk]


def deployment_list() -> QuerySet[Deployment]:
    return Deployment.objects.select_related(
        "release", "release__project", "environment", "created_by", "reviewed_by"
    ).order_by("-id")


def deployment_list_for(user) -> QuerySet[Deployment]:
    """The deployments ``user`` may see: viewer (or more) on their project × environment."""
    return access_for(user).filter(
        deployment_list(), project="project_id", environment="environment_id"
    )


def awaiting_approval(access: Access, limit: int = 20) -> list[Deployment]:
    """Deployments awaiting approval that ``access`` may see, oldest first (one query)."""
    waiting = Deployment.objects.filter(state=Deployment.State.AWAITING_APPROVAL)
    waiting = access.filter(waiting, project="project_id", environment="environment_id")
    return list(
        waiting.select_related("project", "release", "environment", "created_by").order_by("pk")[
            :limit
        ]
    )


def approvers_of(deployment: Deployment) -> list[str]:
    """Who may approve ``deployment``: the teams holding the approver (or admin) role in its
    project × environment, and administrators (one query)."""
    grants = (
        Grant.objects.filter(team__isnull=False, role__in=[Role.APPROVER, Role.ADMIN])
        .filter(Q(all_projects=True) | Q(projects=deployment.project_id))
        .filter(Q(all_environments=True) | Q(environments=deployment.environment_id))
    )
    teams = sorted(set(grants.values_list("team__name", flat=True)))
    return [*teams, "administrators"]


def releases_for(user) -> QuerySet[Release]:
    """The releases of the projects ``user`` may see."""
    return access_for(user).filter(Release.objects.all(), project="project_id")


@dataclass(frozen=True, slots=True)
class DashboardCell:
    """The latest deployment of one project × environment, as the dashboard shows it."""

    deployment: int
    release: int
    version: str
    state: str
    environment_id: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str | None

    @property
    def when(self) -> datetime:
        return self.finished_at or self.started_at or self.created_at

    def duration(self, now: datetime) -> timedelta | None:
        """How long it ran (so far, while it runs); None before it started."""
        if self.started_at is None:
            return None
        return (self.finished_at or now) - self.started_at


@dataclass
class Dashboard:
    projects: list[Project]
    environments: list[Environment]
    cells: dict[tuple[int, int], DashboardCell]

    def rows(self):
        for project in self.projects:
            yield project, [self.cells.get((project.pk, env.pk)) for env in self.environments]


# A list shows none of these, and a release's snapshots can be large.
RELEASE_HEAVY_FIELDS = ("process_snapshot", "variables_snapshot")


def dashboard(
    *, project: str | None = None, name: str = "", access: Access | None = None
) -> Dashboard:
    """Projects × environments, each cell the latest deployment there (three queries).

    ``project``: only the project with this slug (none if no project has it); ``name``: only the
    projects whose name contains it (any case). ``access``: only the projects, environments and
    cells that caller may see (their grants are read once, then filtered in SQL and in memory).

    Hot path: one correlated subquery per environment finds a cell's latest deployment with a
    single probe of the ``deployment_latest`` index, where grouping every deployment would read
    them all; cells are plain rows, not model instances.
    """
    environments = environment_list()
    if access is not None:
        environments = access.environments(environments)
    environments = list(environments)
    latest = {
        f"latest_{env.pk}": Subquery(
            Deployment.objects.filter(project=OuterRef("pk"), environment_id=env.pk)
            .order_by("-id")
            .values("id")[:1]
        )
        for env in environments
    }
    projects = Project.objects.order_by("name")
    if access is not None:
        projects = access.projects(projects)
    if project is not None:
        projects = projects.filter(slug=project)
    if name:
        projects = projects.filter(name__icontains=name)
    projects = list(projects.annotate(**latest))
    ids = [
        getattr(p, f"latest_{env.pk}")
        for p in projects
        for env in environments
        if access is None or access.allows("view", p, env)
    ]
    rows = Deployment.objects.filter(id__in=[i for i in ids if i is not None]).values_list(
        "project_id",
        "id",
        "release_id",
        "release__version",
        "state",
        "environment_id",
        "created_at",
        "started_at",
        "finished_at",
        "created_by__username",
    )
    return Dashboard(
        projects=projects,
        environments=environments,
        cells={(row[0], row[5]): DashboardCell(*row[1:]) for row in rows},
    )


def release_list(project: Project) -> QuerySet[Release]:
    return (
        Release.objects.filter(project=project)
        .select_related("project", "channel", "created_by")
        .defer(*RELEASE_HEAVY_FIELDS)
        .order_by("-id")
    )


def _deployments_by_release(releases: list[Release]) -> dict[int, list[tuple[int, str]]]:
    """Each release's ``(environment id, state)`` pairs, oldest deployment first (one query)."""
    pairs: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = (
        Deployment.objects.filter(release__in=[r.pk for r in releases])
        .order_by("id")
        .values_list("release_id", "environment_id", "state")
    )
    for release_id, environment_id, state in rows:
        pairs[release_id].append((environment_id, state))
    return pairs


def releases_reached(releases: list[Release]) -> dict[int, dict[int, str]]:
    """For each release, the latest deployment state per environment id (one query)."""
    return {pk: dict(pairs) for pk, pairs in _deployments_by_release(releases).items()}


@dataclass
class Standing:
    """Where one release stands: the lifecycle it follows and its phases, the latest state per
    environment id, and what it may do next."""

    lifecycle: Lifecycle
    phases: list[EffectivePhase]
    reached: dict[int, str]
    progression: Progression


def releases_standing(
    releases: list[Release], environments: list[Environment]
) -> dict[int, Standing]:
    """For each release (with ``project`` and ``channel`` loaded): states reached and lifecycle
    progression, in a fixed number of queries however many releases."""
    pairs = _deployments_by_release(releases)
    lifecycle_ids = {r.lifecycle_id_in_force for r in releases}
    lifecycles = {lc.pk: lc for lc in lifecycle_list().filter(pk__in=lifecycle_ids)}
    phases = {pk: lifecycle_effective_phases(lc, environments) for pk, lc in lifecycles.items()}
    standing = {}
    for release in releases:
        lifecycle = lifecycles[release.lifecycle_id_in_force]
        standing[release.pk] = Standing(
            lifecycle=lifecycle,
            phases=phases[lifecycle.pk],
            reached=dict(pairs[release.pk]),
            progression=release_progression(
                phases=phases[lifecycle.pk],
                environments=environments,
                deployments=pairs[release.pk],
                lifecycle_name=lifecycle.name,
            ),
        )
    return standing


def deployment_activity(deployment: Deployment, now: datetime) -> str:
    """What an executing deployment is doing, in words, for its page ("" when not executing)."""
    if deployment.state != Deployment.State.EXECUTING:
        return ""
    phase = deployment.phase
    if phase == Deployment.Phase.WAITING and deployment.next_check_at is not None:
        seconds = (deployment.next_check_at - now).total_seconds()
        late = -seconds - max(10.0, 3 * settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS)
        if late > 0:
            return (
                f"Waiting for the rollout — its check is {int(-seconds)} s late "
                "(are the workers running?)"
            )
        if seconds < 0.5:
            return "Waiting for the rollout — checking it now"
        return f"Waiting for the rollout — next check in {math.ceil(seconds)} s"
    if phase == Deployment.Phase.CHECKING:
        return "Checking the rollout…"
    return "Running a step: AWS calls in flight…"


LAST_ROUND_KEY = "deployserver:engine:last-check-round"  # the figures of the last check round


def engine_status() -> dict:
    """What operators watch: deployments executing, waiting, acting, checks overdue."""
    now = timezone.now()
    overdue_after = max(10.0, 3 * settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS)
    EXECUTING, WAITING = Deployment.State.EXECUTING, Deployment.Phase.WAITING
    ACTING, CHECKING = Deployment.Phase.ACTING, Deployment.Phase.CHECKING
    executing = Deployment.objects.filter(state=EXECUTING)
    counts = executing.aggregate(
        executing=Count("pk"),
        acting=Count("pk", filter=Q(phase__in=[ACTING, Deployment.Phase.NONE])),
        waiting=Count("pk", filter=Q(phase=WAITING)),
        checking=Count("pk", filter=Q(phase=CHECKING)),
        checks_overdue=Count(
            "pk",
            filter=Q(phase=WAITING, next_check_at__lt=now - timedelta(seconds=overdue_after)),
        ),
        oldest_due=Min("next_check_at", filter=Q(phase=WAITING)),
    )
    oldest = counts.pop("oldest_due")
    counts["most_overdue_seconds"] = (
        max(0.0, round((now - oldest).total_seconds(), 1)) if oldest else 0.0
    )
    counts["queued"] = Deployment.objects.filter(state=Deployment.State.QUEUED).count()
    try:
        counts["last_check_round"] = cache.get(LAST_ROUND_KEY)
    except Exception:  # noqa: BLE001 - a cache outage hides only this figure
        counts["last_check_round"] = None
    return counts
