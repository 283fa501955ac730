"""The dashboard: projects × environments, each cell the latest deployment there."""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import selectors
from ..models import Deployment

STATE_LABELS = dict(Deployment.State.choices)


def _ago(when: datetime, now: datetime) -> str:
    seconds = max(int((now - when).total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _cell_html(cell: selectors.DashboardCell | None, url_of, now: datetime) -> str:
    """One dashboard cell, linking to its deployment."""
    if cell is None:
        return mark_safe('<td class="cell cell-empty muted" title="Not deployed yet">—</td>')
    badge = "muted" if cell.state == Deployment.State.CANCELLED else cell.state
    label = STATE_LABELS.get(cell.state, cell.state)
    at = timezone.localtime(cell.when).strftime("%Y-%m-%d %H:%M:%S %Z")
    who = f" · {cell.created_by}" if cell.created_by else ""
    return format_html(
        '<td class="cell cell-{}" data-environment="{}"><a class="cell-link" href="{}" '
        'title="{} · {}"><span class="cell-version">{}</span> '
        '<span class="badge badge-{}">{}</span> <span class="cell-meta muted">{}{}</span></a></td>',
        cell.state,
        cell.environment_id,
        url_of(cell.deployment),
        label,
        at,
        cell.version,
        badge,
        label,
        _ago(cell.when, now),
        who,
    )


@login_required
def dashboard(request):
    """Projects × environments: each cell the latest deployment there (constant queries).

    Hot path: hundreds of cells, so each is rendered here with ``format_html`` (escaped) rather
    than through a dozen template lookups.
    """
    board = selectors.dashboard()
    now = timezone.now()
    # Reversed once: the deployment page's URL differs between cells only by the id.
    marker = 987654321
    pattern = reverse("deployment-detail", args=[marker])

    def url_of(pk: int) -> str:
        return pattern.replace(str(marker), str(pk))

    rows = [
        (project, [_cell_html(cell, url_of, now) for cell in cells])
        for project, cells in board.rows()
    ]
    return render(
        request,
        "deployments/dashboard.html",
        {"environments": board.environments, "projects": board.projects, "rows": rows},
    )
