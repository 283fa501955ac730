"""A project's overview: what runs where, the recent releases across its environments, and what
may be deployed next.

Columns are the environments of the project's lifecycle, phase by phase. The top row holds each
environment's current deployment (its latest, whatever its state); below it, the last releases,
each with its latest deployment per environment, or "not yet", or "blocked" with the lifecycle's
reason. What may be deployed is what ``releases_standing`` says (the lifecycle rules of
``releases.promotion``, the same ones ``deployment_create`` enforces): the overview only picks,
per environment, the newest recent release that may go there and is newer than what runs there.

Hot path: a constant number of queries however long the history (the current deployments by one
correlated subquery per environment, the recent releases' deployments in one query).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery

from releases.models import Environment, Project, Release
from releases.selectors import (
    EffectivePhase,
    environment_list,
    lifecycle_effective_phases,
    lifecycle_list,
)

from .models import Deployment
from .selectors import DashboardCell, Standing, release_list, releases_standing

RECENT_RELEASES = 10
RUNNING = (
    Deployment.State.AWAITING_APPROVAL,
    Deployment.State.QUEUED,
    Deployment.State.EXECUTING,
)

NOT_YET = "not-yet"
BLOCKED = "blocked"


@dataclass(frozen=True)
class CurrentDeployment(DashboardCell):
    """An environment's latest deployment of the project, with what the engine is doing."""

    phase: str = ""
    next_check_at: datetime | None = None


@dataclass(frozen=True)
class Offer:
    """A button: deploy ``release`` to an environment (``promote`` when it succeeded elsewhere)."""

    release: Release
    promote: bool


@dataclass
class Column:
    environment: Environment
    phase: str
    current: CurrentDeployment | None = None
    offer: Offer | None = None


@dataclass(frozen=True)
class ReleaseCell:
    """One release × environment: its latest deployment there, or why there is none."""

    environment: Environment
    state: str  # a deployment state, NOT_YET or BLOCKED
    deployment: int | None = None
    when: datetime | None = None
    reason: str = ""
    current: bool = False  # what runs in that environment now


@dataclass
class ReleaseRow:
    release: Release
    standing: Standing
    cells: list[ReleaseCell] = field(default_factory=list)


@dataclass
class Overview:
    project: Project
    phases: list[EffectivePhase]
    columns: list[Column]
    rows: list[ReleaseRow]

    @property
    def running(self) -> bool:
        """Something is queued or executing: the page keeps polling."""
        return any(c.current and c.current.state in RUNNING for c in self.columns) or any(
            cell.state in RUNNING for row in self.rows for cell in row.cells
        )

    @property
    def phase_headers(self) -> list[tuple[str, int]]:
        """(phase name, environments in it) for a header row over the environments; none when
        it would only repeat them (implied phases, or each phase one environment of its name)."""
        phases = [p for p in self.phases if p.environments]
        if all(len(p.environments) == 1 and p.environments[0].name == p.name for p in phases):
            return []
        return [(p.name, len(p.environments)) for p in phases]


def _current(project: Project, environments: list[Environment]) -> dict[int, CurrentDeployment]:
    """Each environment's latest deployment of ``project`` (one query for the rows)."""
    latest = Subquery(
        Deployment.objects.filter(project=project, environment=OuterRef("pk"))
        .order_by("-id")
        .values("id")[:1]
    )
    ids = (
        Environment.objects.filter(pk__in=[e.pk for e in environments])
        .annotate(latest=latest)
        .values_list("latest", flat=True)
    )
    rows = Deployment.objects.filter(id__in=Subquery(ids)).values_list(
        "id",
        "release_id",
        "release__version",
        "state",
        "environment_id",
        "created_at",
        "started_at",
        "finished_at",
        "created_by__username",
        "phase",
        "next_check_at",
    )
    return {row[4]: CurrentDeployment(*row) for row in rows}


def _latest_per_release(releases: list[Release]) -> dict[tuple[int, int], tuple]:
    """(release id, environment id) → (deployment id, state, when) of the latest (one query)."""
    rows = (
        Deployment.objects.filter(release__in=[r.pk for r in releases])
        .order_by("id")
        .values_list("release_id", "environment_id", "id", "state", "created_at", "finished_at")
    )
    return {(r, e): (pk, state, finished or created) for r, e, pk, state, created, finished in rows}


def project_overview(project: Project, *, recent: int = RECENT_RELEASES) -> Overview:
    """The overview of ``project`` (with its lifecycle loaded)."""
    environments = list(environment_list())
    lifecycle = lifecycle_list().get(pk=project.lifecycle_id)
    phases = lifecycle_effective_phases(lifecycle, environments)
    columns = [Column(env, phase.name) for phase in phases for env in phase.environments]
    current = _current(project, [c.environment for c in columns])
    releases = list(release_list(project)[:recent])
    standing = releases_standing(releases, environments)
    latest = _latest_per_release(releases)

    rows = []
    for release in releases:
        row = ReleaseRow(release, standing[release.pk])
        progression = row.standing.progression
        for column in columns:
            env = column.environment
            now = current.get(env.pk)
            found = latest.get((release.pk, env.pk))
            if found:
                pk, state, when = found
                cell = ReleaseCell(env, state, pk, when, current=bool(now and now.deployment == pk))
            elif progression.allows(env):
                cell = ReleaseCell(env, NOT_YET)
            else:
                cell = ReleaseCell(env, BLOCKED, reason=progression.reason(env))
            row.cells.append(cell)
        rows.append(row)

    for column in columns:
        column.current = current.get(column.environment.pk)
        column.offer = _offer(column, rows)
    return Overview(project=project, phases=phases, columns=columns, rows=rows)


def _offer(column: Column, rows: list[ReleaseRow]) -> Offer | None:
    """The newest recent release the lifecycle lets into this environment now, newer than the one
    there and not already on its way there; none while a deployment there is pending."""
    now = column.current
    if now is not None and now.state in RUNNING:
        return None
    env = column.environment
    for row in rows:  # newest first
        if now is not None and row.release.pk <= now.release:
            return None
        if not row.standing.progression.allows(env):
            continue
        if row.standing.reached.get(env.pk) in RUNNING:
            continue
        promote = any(state == Deployment.State.SUCCESS for state in row.standing.reached.values())
        return Offer(row.release, promote)
    return None
