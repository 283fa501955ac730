"""A project's overview: the page a project link opens, and the part of it that stays live.

While a deployment of the project is queued or executing, the grid polls its own URL every two
seconds; once nothing runs, the answer is status 286 and a grid without a trigger, so polling
stops (as on the deployment page).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from deployserver.core.access import Action, access_for
from releases.models import DeploymentProcess
from releases.selectors import project_visible

from ..drift import drift_cells
from ..models import Deployment
from ..overview import Overview, project_overview
from ..selectors import deployment_activity
from .cells import (
    ago,
    deployment_cell,
    deployment_url_maker,
    drift_badge,
    empty_cell,
    release_cell,
)

POLL_DONE = 286


def _offer_form(request, column, csrf: str, allowed: bool):
    offer = column.offer
    if offer is None or not allowed:
        return ""
    verb = "Promote" if offer.promote else "Deploy"
    return format_html(
        '<form method="post" action="{}" class="cell-action">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="environment" value="{}">'
        '<button class="btn btn-small{}" title="{} {} to {}">{} {}</button></form>',
        reverse("project-release-deploy", args=[offer.release.pk]),
        csrf,
        column.environment.slug,
        "" if offer.promote else " btn-primary",
        verb,
        offer.release.version,
        column.environment.name,
        verb,
        offer.release.version,
    )


def _grid(request, overview: Overview) -> dict:
    now = timezone.now()
    url_of = deployment_url_maker()
    csrf = get_token(request)
    access = access_for(request.user)
    project = overview.project
    # Columns of environments the user may not see show nothing of what happened there.
    seen = [access.allows(Action.VIEW, project, c.environment) for c in overview.columns]
    current = []
    drift = drift_cells([overview.project.pk])
    for column, visible in zip(overview.columns, seen, strict=True):
        if not visible:
            current.append(empty_cell())
            continue
        allowed = access.allows(Action.DEPLOY, project, column.environment)
        cell = column.current
        activity = ""
        if cell is not None and cell.state == Deployment.State.EXECUTING:
            probe = Deployment(state=cell.state, phase=cell.phase, next_check_at=cell.next_check_at)
            activity = deployment_activity(probe, now)
        current.append(
            deployment_cell(
                cell,
                url_of,
                now,
                show_duration=True,
                activity=activity,
                extra=format_html(
                    "{}{}",
                    drift_badge(
                        drift.get((overview.project.pk, column.environment.pk)), url_of, now
                    ),
                    _offer_form(request, column, csrf, allowed),
                ),
            )
        )
    rows = [
        (
            row,
            [
                release_cell(c, url_of, now) if visible else empty_cell()
                for c, visible in zip(row.cells, seen, strict=True)
            ],
            ago(row.release.created_at, now),
        )
        for row in overview.rows
    ]
    return {"overview": overview, "current": current, "rows": rows}


def _project(request, slug: str):
    return project_visible(request.user, slug)


@login_required
def project_overview_page(request, slug: str):
    project = _project(request, slug)
    overview = project_overview(project)
    context = {"project": project, **_grid(request, overview)}
    if not overview.rows:
        process = DeploymentProcess.objects.filter(project=project).values_list("steps", flat=True)
        context["steps_count"] = len(next(iter(process), None) or [])
        context["variables_count"] = project.variables.count()
    return render(request, "deployments/project_overview.html", context)


@login_required
def project_overview_grid(request, slug: str):
    """The live part of the overview (htmx polls it while something runs)."""
    overview = project_overview(_project(request, slug))
    context = {"project": overview.project, **_grid(request, overview)}
    status = 200 if overview.running else POLL_DONE
    return render(request, "deployments/_overview_grid.html", context, status=status)
