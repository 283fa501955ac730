"""Pages: the dashboard, a project's releases and channels, creating a release, one release.

Thin views: forms check shapes, services (``releases.releasing``, ``releases.channels``,
``deployments.services``) decide; a refusal is shown where it belongs, with its reason.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from deployserver.web.pages import add_service_errors, confirm_delete, write_permission
from releases import channels as channel_services
from releases import releasing
from releases.models import Channel, Environment, Project, Release
from releases.selectors import environment_list, project_list

from . import selectors, services
from .forms_releases import (
    ChannelForm,
    ReleaseForm,
    RuleFormSet,
    channel_rule_refs,
    package_pickers,
)
from .models import Deployment

RELEASES_PER_PAGE = 25


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


# Releases ------------------------------------------------------------------------------------


@login_required
def release_list(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    page = Paginator(selectors.release_list(project), RELEASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    environments = list(environment_list())
    standing = selectors.releases_standing(list(page.object_list), environments)
    rows = []
    for release in page.object_list:
        reached = standing[release.pk].reached
        states = [(env, reached[env.pk]) for env in environments if env.pk in reached]
        rows.append((release, standing[release.pk], states))
    return render(
        request,
        "deployments/release_list.html",
        {"project": project, "page": page, "rows": rows, "environments": environments},
    )


def _channel(project: Project, slug: str | None) -> Channel:
    channels = {c.slug: c for c in project.channels.all()}
    if slug in channels:
        return channels[slug]
    return channel_services.channel_default(project)


@write_permission("releases.add_release")
def release_create(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    channel_services.channel_default(project)
    channels = list(project.channels.select_related("lifecycle"))
    channel = _channel(project, (request.POST or request.GET).get("channel"))
    pickers = package_pickers(project, channel)
    form = ReleaseForm(
        request.POST or None,
        channels=channels,
        pickers=pickers,
        initial={"version": releasing.release_next_version(project), "channel": channel.slug},
    )
    package_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            release = services.release_publish(
                project=project,
                user=request.user,
                version=form.cleaned_data["version"] or None,
                channel=channel,
                packages=form.packages(),
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            other = add_service_errors(form, exc)
            package_errors = [m for messages_ in other.values() for m in messages_]
        else:
            messages.success(request, f"Release {release.version} created.")
            return redirect("project-release", pk=release.pk)
    status = 400 if request.method == "POST" else 200
    context = {
        "project": project,
        "form": form,
        "channel": channel,
        "package_errors": package_errors,
    }
    return render(request, "deployments/release_form.html", context, status=status)


@login_required
def release_packages(request, slug):
    """The version pickers for the channel chosen in the form (htmx swaps them in)."""
    project = get_object_or_404(project_list(), slug=slug)
    channel = _channel(project, request.GET.get("channel"))
    form = ReleaseForm(
        channels=list(project.channels.all()), pickers=package_pickers(project, channel)
    )
    return render(request, "deployments/_release_packages.html", {"form": form, "channel": channel})


def _release(pk: int) -> Release:
    return get_object_or_404(
        Release.objects.select_related("project", "channel", "channel__lifecycle", "created_by"),
        pk=pk,
    )


@login_required
def release_detail(request, pk):
    release = _release(pk)
    environments = list(environment_list())
    standing = selectors.releases_standing([release], environments)[release.pk]
    progression = standing.progression
    deployable = {e.pk for e in progression.deployable}
    rows = [
        {
            "environment": env,
            "state": standing.reached.get(env.pk),
            "deployable": env.pk in deployable,
            "reason": progression.reason(env),
        }
        for env in environments
    ]
    deployments = selectors.deployment_list().filter(release=release)
    lifecycle = release.channel.lifecycle or release.project.lifecycle
    return render(
        request,
        "deployments/release_detail.html",
        {
            "release": release,
            "project": release.project,
            "rows": rows,
            "next_environment": progression.next_environment,
            "deployments": deployments,
            "lifecycle": lifecycle,
            "variables_changed": releasing.release_variables_changed(release),
        },
    )


def _refused(request, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


@require_POST
@write_permission("deployments.add_deployment")
def release_deploy(request, pk):
    release = _release(pk)
    environment = get_object_or_404(Environment, slug=request.POST.get("environment", ""))
    try:
        deployment = services.deployment_create(
            release=release, environment=environment, user=request.user
        )
    except (ValidationError, services.DeploymentConflict) as exc:
        _refused(request, exc)
        return redirect("project-release", pk=release.pk)
    messages.success(request, f"Deployment of {release.version} to {environment.name} queued.")
    return redirect("deployment-detail", pk=deployment.pk)


@require_POST
@write_permission("deployments.add_deployment")
def release_promote(request, pk):
    release = _release(pk)
    try:
        deployment = services.deployment_promote(release=release, user=request.user)
    except ValidationError as exc:
        _refused(request, exc)
        return redirect(request.POST.get("next") or reverse("project-release", args=[release.pk]))
    messages.success(
        request, f"Promotion of {release.version} to {deployment.environment.name} queued."
    )
    return redirect("deployment-detail", pk=deployment.pk)


@require_POST
@write_permission("releases.change_release")
def release_update_variables(request, pk):
    release = _release(pk)
    releasing.release_snapshot_update(release=release, user=request.user)
    messages.success(request, f"The variable snapshot of {release.version} was updated.")
    return redirect("project-release", pk=release.pk)


# Channels ------------------------------------------------------------------------------------


@login_required
def channel_list(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    channel_services.channel_default(project)
    channels = project.channels.select_related("lifecycle")
    return render(
        request, "deployments/channel_list.html", {"project": project, "channels": channels}
    )


def _channel_form_page(request, project: Project, channel: Channel | None):
    data = request.POST or None
    form = ChannelForm.for_channel(channel, data) if channel else ChannelForm(data)
    refs = channel_rule_refs(project, channel)
    initial = [
        {
            "packages": r.get("packages", []),
            "version_range": r.get("version_range", ""),
            "prerelease": r.get("prerelease", ""),
        }
        for r in (channel.rules if channel else [])
    ]
    rules = RuleFormSet(data, prefix="rules", refs=refs, initial=initial)
    rule_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        fields = {**form.cleaned_data, "rules": rules.rules()}
        try:
            if channel is None:
                channel = channel_services.channel_create(
                    project=project, user=request.user, **fields
                )
            else:
                channel_services.channel_update(channel=channel, user=request.user, **fields)
        except ValidationError as exc:
            other = add_service_errors(form, exc)
            rule_errors = [m for messages_ in other.values() for m in messages_]
            if channel is not None and channel.pk:
                channel.refresh_from_db()
        else:
            messages.success(request, f"Channel {channel.name} saved.")
            return redirect("project-channels", slug=project.slug)
    return render(
        request,
        "deployments/channel_form.html",
        {
            "project": project,
            "channel": channel,
            "form": form,
            "rules": rules,
            "rule_errors": rule_errors,
        },
        status=400 if request.method == "POST" else 200,
    )


@write_permission("releases.add_channel")
def channel_create(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    return _channel_form_page(request, project, None)


@write_permission("releases.change_channel")
def channel_edit(request, slug, channel_slug):
    channel = get_object_or_404(
        Channel.objects.select_related("project"), project__slug=slug, slug=channel_slug
    )
    return _channel_form_page(request, channel.project, channel)


@write_permission("releases.delete_channel")
def channel_delete(request, slug, channel_slug):
    channel = get_object_or_404(
        Channel.objects.select_related("project"), project__slug=slug, slug=channel_slug
    )
    return confirm_delete(
        request,
        obj=channel,
        kind="Channel",
        delete=lambda: channel_services.channel_delete(channel=channel, user=request.user),
        cancel_url=reverse("project-channels", args=[slug]),
        success_url=reverse("project-channels", args=[slug]),
    )
