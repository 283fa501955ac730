"""Pages of a project's releases: the list, creating a release, one release and its actions.

They stay in ``deployments`` because a release page shows where the release is deployed and
queues deployments. Thin views: forms check shapes, services (``releases.releasing``,
``deployments.services``) decide; a refusal is shown where it belongs, with its reason.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from deployserver.core.access import Action, access_for
from deployserver.web.pages import add_service_errors
from releases import channels as channel_services
from releases import releasing
from releases.models import Channel, Environment, Project, Release
from releases.process import process_preview_require
from releases.selectors import environment_list, project_for, project_visible

from .. import selectors, services
from ..aws_ecs import diff
from ..enqueue import QUEUE_UNREACHABLE
from ..exceptions import DeploymentConflict
from ..forms import ReleaseForm, package_pickers
from ..models import Deployment
from ..selectors import approvers_of
from ..services import approval_refusal
from .deployments import queue_warning

RELEASES_PER_PAGE = 25


@login_required
def release_list(request, slug):
    project = project_visible(request.user, slug)
    page = Paginator(selectors.release_list(project), RELEASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    environments = list(environment_list())
    standing = selectors.releases_standing(list(page.object_list), environments)
    access = access_for(request.user)
    visible = [env for env in environments if access.allows(Action.VIEW, project, env)]
    rows = []
    for release in page.object_list:
        reached = standing[release.pk].reached
        states = [(env, reached[env.pk]) for env in visible if env.pk in reached]
        rows.append((release, standing[release.pk], states))
    return render(
        request,
        "deployments/release_list.html",
        {"project": project, "page": page, "rows": rows, "environments": environments},
    )


def _channel(project: Project, slug: str | None) -> tuple[Channel | None, str]:
    """The chosen channel, or the default one with the reason an unknown choice was refused."""
    try:
        return channel_services.channel_resolve(project, slug), ""
    except ValidationError as exc:
        return channel_services.channel_default(project), " ".join(exc.messages)


@login_required
def release_create(request, slug):
    project = project_for(request, slug, Action.RELEASE)
    channels = list(project.channels.select_related("lifecycle"))
    channel, channel_error = _channel(project, (request.POST or request.GET).get("channel"))
    pickers = package_pickers(project, channel)
    form = ReleaseForm(
        request.POST or None,
        channels=channels,
        pickers=pickers,
        initial={"version": releasing.release_next_version(project), "channel": channel.slug},
    )
    package_errors: list[str] = []
    if channel_error:
        # The channel rule's own words, in place of the choice field's generic refusal.
        form.is_valid()
        form.errors["channel"] = form.error_class([channel_error])
    elif request.method == "POST" and form.is_valid():
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
            unsent = release.deployments.filter(
                state=Deployment.State.QUEUED, enqueued_at__isnull=True
            )
            if unsent.exists():  # its automatic deployments, queued but not sent
                messages.warning(request, QUEUE_UNREACHABLE)
            return redirect("project-release", pk=release.pk)
    status = 400 if request.method == "POST" or channel_error else 200
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
    project = project_for(request, slug, Action.RELEASE)
    channel, _ = _channel(project, request.GET.get("channel"))
    form = ReleaseForm(
        channels=list(project.channels.all()), pickers=package_pickers(project, channel)
    )
    return render(request, "deployments/_release_packages.html", {"form": form, "channel": channel})


def _release(request, pk: int) -> Release:
    """A release of a project the user may see; not found (404) otherwise."""
    return get_object_or_404(
        selectors.releases_for(request.user).select_related(
            "project", "channel", "channel__lifecycle", "created_by"
        ),
        pk=pk,
    )


@login_required
def release_detail(request, pk):
    release = _release(request, pk)
    environments = list(environment_list())
    standing = selectors.releases_standing([release], environments)[release.pk]
    progression = standing.progression
    deployable = {e.pk for e in progression.deployable}
    access = access_for(request.user)
    deployments = list(selectors.deployment_list_for(request.user).filter(release=release))
    awaiting = {
        d.environment_id: d for d in deployments if d.state == Deployment.State.AWAITING_APPROVAL
    }
    rows = [
        {
            "environment": env,
            "state": standing.reached.get(env.pk),
            "deployable": env.pk in deployable,
            "reason": progression.reason(env),
            "refusal": access.reason(Action.DEPLOY, release.project, env),
            "approval": awaiting.get(env.pk),
            "approval_why": approval_refusal(request.user, awaiting[env.pk])
            if env.pk in awaiting
            else "",
            "approvers": approvers_of(awaiting[env.pk]) if env.pk in awaiting else [],
        }
        for env in environments
        if access.allows(Action.VIEW, release.project, env)
    ]
    lifecycle = standing.lifecycle
    return render(
        request,
        "deployments/release_detail.html",
        {
            "release": release,
            "project": release.project,
            "rows": rows,
            "deployable_rows": [r for r in rows if r["deployable"] and not r["refusal"]],
            "next_environment": progression.next_environment,
            "deployments": deployments,
            "lifecycle": lifecycle,
            "variables_changed": releasing.release_variables_changed(release),
        },
    )


@login_required
def release_diff(request, pk):
    """The release page's "What will change" for one environment (loaded when opened)."""
    release = _release(request, pk)
    environment = get_object_or_404(Environment, slug=request.GET.get("environment", ""))
    process_preview_require(request.user, release.project, environment)
    return render(
        request,
        "deployments/_release_diff.html",
        {"diff": diff.release_diff(release, environment), "environment": environment},
    )


def _queued(deployment: Deployment) -> str:
    if deployment.state == Deployment.State.AWAITING_APPROVAL:
        return "queued; it waits for an approver"
    return "queued"


def _refused(request, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


@require_POST
@login_required
def release_deploy(request, pk):
    release = _release(request, pk)
    environment = get_object_or_404(Environment, slug=request.POST.get("environment", ""))
    try:
        deployment = services.deployment_create(
            release=release, environment=environment, user=request.user
        )
    except (ValidationError, DeploymentConflict) as exc:
        _refused(request, exc)
        return redirect("project-release", pk=release.pk)
    messages.success(
        request, f"Deployment of {release.version} to {environment.name} {_queued(deployment)}."
    )
    queue_warning(request, deployment)
    return redirect("deployment-detail", pk=deployment.pk)


@require_POST
@login_required
def release_promote(request, pk):
    release = _release(request, pk)
    try:
        deployment = services.deployment_promote(release=release, user=request.user)
    except ValidationError as exc:
        _refused(request, exc)
        return redirect(request.POST.get("next") or reverse("project-release", args=[release.pk]))
    messages.success(
        request,
        f"Promotion of {release.version} to {deployment.environment.name} {_queued(deployment)}.",
    )
    queue_warning(request, deployment)
    return redirect("deployment-detail", pk=deployment.pk)


@require_POST
@login_required
def release_update_variables(request, pk):
    release = _release(request, pk)
    releasing.release_snapshot_update(release=release, user=request.user)
    messages.success(request, f"The variable snapshot of {release.version} was updated.")
    return redirect("project-release", pk=release.pk)
