"""The dashboard: projects × environments, each cell the latest deployment there."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from deployserver.core.access import access_for

from .. import selectors
from ..drift import drift_cells
from .cells import deployment_cell, deployment_url_maker, drift_badge

# Past this many projects the dashboard offers a filter by name.
FILTER_FROM = 8


@login_required
def dashboard(request):
    """Projects × environments: each cell the latest deployment there and its drift badge
    (constant queries).

    ``?q=`` keeps the projects whose name contains it; htmx swaps just the board as one types.
    """
    query = request.GET.get("q", "").strip()[:100]
    access = access_for(request.user)
    board = selectors.dashboard(name=query, access=access)
    now = timezone.now()
    url_of = deployment_url_maker()
    drift = drift_cells([p.pk for p in board.projects])
    rows = [
        (
            project,
            [
                deployment_cell(
                    cell,
                    url_of,
                    now,
                    extra=drift_badge(drift.get((project.pk, env.pk)), url_of, now),
                )
                for env, cell in zip(board.environments, cells, strict=True)
            ],
        )
        for project, cells in board.rows()
    ]
    return render(
        request,
        "deployments/dashboard.html",
        {
            "environments": board.environments,
            "projects": board.projects,
            "rows": rows,
            "query": query,
            "deployed": any(board.cells),
            "filterable": query or len(board.projects) >= FILTER_FROM,
            "no_grant": not access.has_any_grant,
            "awaiting": selectors.awaiting_approval(access),
        },
    )
