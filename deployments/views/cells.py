"""The cells of the dashboard and of a project's overview: one design for both.

A deployment cell shows a version, its state badge, when and who (and on the overview, how long
it ran); a release cell shows a release's state in one environment as an icon and when, or that
it is not there yet, or blocked with the lifecycle's reason on hover.

Hot path: pages show hundreds of cells, so each is built here with ``format_html`` (escaped)
rather than through a dozen template lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..drift import CellDrift
from ..models import Deployment, ServiceDrift
from ..overview import BLOCKED, NOT_YET, ReleaseCell
from ..selectors import DashboardCell

STATE_LABELS = dict(Deployment.State.choices)
ICONS = {
    Deployment.State.SUCCESS: "✓",
    Deployment.State.FAILED: "✕",
    Deployment.State.EXECUTING: "●",
    Deployment.State.QUEUED: "◷",
    Deployment.State.AWAITING_APPROVAL: "⏸",
    Deployment.State.CANCELLED: "⊘",
}


def ago(when: datetime, now: datetime) -> str:
    seconds = max(int((now - when).total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def took(duration: timedelta | None) -> str:
    if duration is None:
        return ""
    minutes, seconds = divmod(max(int(duration.total_seconds()), 0), 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def deployment_url_maker() -> Callable[[int], str]:
    """The deployment page's URL of an id, reversed once (cells differ only by the id)."""
    marker = 987654321
    pattern = reverse("deployment-detail", args=[marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


def _badge(state: str) -> str:
    return "muted" if state == Deployment.State.CANCELLED else state


def deployment_cell(
    cell: DashboardCell | None,
    url_of: Callable[[int], str],
    now: datetime,
    *,
    show_duration: bool = False,
    activity: str = "",
    extra: SafeString | str = "",
) -> SafeString:
    """A ``<td>`` with the latest deployment of a project in an environment (or a dash)."""
    if cell is None:
        return format_html(
            '<td class="cell cell-empty"><span class="cell-none" title="Not deployed yet">—</span>'
            "{}</td>",
            extra,
        )
    label = STATE_LABELS.get(cell.state, cell.state)
    at = timezone.localtime(cell.when).strftime("%Y-%m-%d %H:%M:%S %Z")
    meta = [ago(cell.when, now)]
    if cell.created_by:
        meta.append(cell.created_by)
    if show_duration and (duration := took(cell.duration(now))):
        meta.append(duration)
    title = " · ".join(filter(None, [label, activity, at]))
    return format_html(
        '<td class="cell cell-{}" data-environment="{}"><a class="cell-link" href="{}" title="{}">'
        '<span class="cell-top"><span class="cell-version">{}</span> '
        '<span class="badge badge-{}">{}</span></span>'
        '<span class="cell-meta">{}</span></a>{}</td>',
        cell.state,
        cell.environment_id,
        url_of(cell.deployment),
        title,
        cell.version,
        _badge(cell.state),
        label,
        " · ".join(meta),
        extra,
    )


def release_cell(cell: ReleaseCell, url_of: Callable[[int], str], now: datetime) -> SafeString:
    """A ``<td>``: a release's state in one environment, not there yet, or blocked (and why)."""
    env = cell.environment.name
    if cell.state == NOT_YET:
        return format_html(
            '<td class="rcell rcell-not-yet"><span class="rcell-none" title="{}">—</span></td>',
            f"Not deployed to {env} yet",
        )
    if cell.state == BLOCKED:
        return format_html(
            '<td class="rcell rcell-blocked"><span class="rcell-none" title="{}" '
            'aria-label="Blocked: {}">⊘</span></td>',
            cell.reason,
            cell.reason,
        )
    label = STATE_LABELS.get(cell.state, cell.state)
    at = timezone.localtime(cell.when).strftime("%Y-%m-%d %H:%M %Z")
    current = f" — what runs in {env} now" if cell.current else ""
    return format_html(
        '<td class="rcell rcell-{}{}"><a href="{}" title="{}"><span class="state-icon" '
        'aria-label="{}">{}</span> <span class="rcell-when">{}</span></a></td>',
        cell.state,
        " rcell-current" if cell.current else "",
        url_of(cell.deployment),
        f"{label} in {env} · {at}{current}",
        label,
        ICONS.get(cell.state, "•"),
        ago(cell.when, now),
    )


DRIFT_ICONS = {
    ServiceDrift.State.IN_SYNC: "✓",
    ServiceDrift.State.DRIFTED: "≠",
    ServiceDrift.State.DEGRADED: "▼",
    ServiceDrift.State.MISSING: "∅",
    ServiceDrift.State.UNKNOWN: "?",
}


def drift_badge(drift: CellDrift | None, url_of: Callable[[int], str], now: datetime):
    """What runs there against the last successful deployment: a link to that deployment's page,
    the reasons on hover (and for screen readers), "" before the first drift round."""
    if drift is None:
        return ""
    label = drift.label
    title = "\n".join([f"{label} — checked {ago(drift.checked_at, now)}", *drift.reasons])
    return format_html(
        '<a class="drift drift-{}" href="{}#drift" title="{}" aria-label="{}">'
        '<span aria-hidden="true">{}</span> {}</a>',
        drift.state,
        url_of(drift.deployment),
        title,
        title.replace("\n", ". "),
        DRIFT_ICONS.get(drift.state, "•"),
        label,
    )


def empty_cell() -> SafeString:
    return mark_safe('<td class="cell cell-empty"><span class="cell-none">—</span></td>')
