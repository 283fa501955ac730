"""Reads for environments, lifecycles and projects, with their joins decided."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from deployserver.core.access import Action, access_for

from .models import Environment, Lifecycle, Phase, PhaseEnvironment, Project


@dataclass(frozen=True)
class EffectivePhase:
    """A phase as it applies: a stored one, or one implied by an environment's sort order."""

    name: str
    environments: tuple[Environment, ...]
    automatic: tuple[Environment, ...]
    is_optional: bool
    minimum_environments: int
    implied: bool = False


def environment_list() -> QuerySet[Environment]:
    return Environment.objects.order_by("sort_order", "name")


def project_visible(user, slug: str, action: Action = Action.VIEW) -> Project:
    """The project with this slug if ``user`` may ``action`` it in some environment; 404
    otherwise, so a project outside one's grants cannot be told from one that does not exist."""
    return get_object_or_404(access_for(user).projects(Project.objects.all(), action), slug=slug)


def project_for(request, slug: str, action: Action) -> Project:
    """A page's project: not found (404) unless visible; 403 with the reason unless ``action``
    is allowed on it (a GET of an editor page is refused like its POST, but not audited)."""
    project = project_visible(request.user, slug)
    access_for(request.user).require(action, project, write=request.method == "POST")
    return project


def projects_visible(user) -> QuerySet[Project]:
    return access_for(user).projects(Project.objects.all())


def lifecycle_list() -> QuerySet[Lifecycle]:
    phase_envs = PhaseEnvironment.objects.select_related("environment")
    phases = Phase.objects.prefetch_related(Prefetch("phase_environments", queryset=phase_envs))
    return Lifecycle.objects.prefetch_related(Prefetch("phases", queryset=phases)).order_by(
        "-is_default", "name"
    )


def lifecycle_default_get() -> Lifecycle | None:
    """The default lifecycle (a migration creates it), read only: a page's GET never writes."""
    return Lifecycle.objects.filter(is_default=True).first()


def lifecycle_effective_phases(
    lifecycle: Lifecycle, environments: list[Environment] | None = None
) -> list[EffectivePhase]:
    """The phases a release follows. A lifecycle without phases gets one per environment.

    Pass ``environments`` (ordered) to avoid a query when listing many lifecycles.
    """
    phases = list(lifecycle.phases.all())
    if not phases:
        envs = environments if environments is not None else list(environment_list())
        return [EffectivePhase(env.name, (env,), (), False, 0, implied=True) for env in envs]
    return [
        EffectivePhase(
            phase.name,
            tuple(pe.environment for pe in phase.phase_environments.all()),
            tuple(pe.environment for pe in phase.phase_environments.all() if pe.automatic),
            phase.is_optional,
            phase.minimum_environments,
        )
        for phase in phases
    ]


def project_list() -> QuerySet[Project]:
    return Project.objects.select_related("lifecycle").order_by("name")
