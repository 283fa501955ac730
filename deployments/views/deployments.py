"""The deployment page: state, outputs and rollout progress updated in place, the live task log.

One htmx poll per second fetches ``deployment_poll``: the status card and the new log lines come
back as out-of-band swaps, plus the poller itself carrying the last seq it has seen. Once the
deployment has finished and every line is shown, the answer is status 286 and a poller without a
trigger, so polling stops (NetBox does the same for its jobs).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import drift, enqueue, logs, selectors, services
from ..exceptions import DeploymentConflict
from ..models import Deployment
from .cells import ago

TAIL_LINES = 500
POLL_DONE = 286


def _deployment(request, pk: int) -> Deployment:
    """A deployment the user may see (its project × environment); not found (404) otherwise."""
    return get_object_or_404(selectors.deployment_list_for(request.user), pk=pk)


def _status_context(request, deployment: Deployment) -> dict:
    outputs = deployment.outputs or {}
    desired = deployment.progress_desired
    percent = round(100 * deployment.progress_running / desired) if desired else 0
    promote_to = None
    if deployment.state == Deployment.State.SUCCESS:
        promote_to = selectors.release_progress(deployment.release).next_environment
    return {
        "deployment": deployment,
        "outputs": [
            (label, outputs.get(key))
            for key, label in (
                ("task_definition_arn", "Task definition"),
                ("previous_task_definition_arn", "Ran before"),
                ("service_arn", "Service"),
            )
            if outputs.get(key)
        ],
        "percent": min(100, percent),
        "duration": _duration(deployment),
        "activity": selectors.deployment_activity(deployment, timezone.now()),
        "promote_to": promote_to,
        **_approval_context(request, deployment),
    }


def _approval_context(request, deployment: Deployment) -> dict:
    if deployment.state != Deployment.State.AWAITING_APPROVAL:
        return {}
    return {
        "why": services.approval_refusal(request.user, deployment) or "",
        "approvers": selectors.approvers_of(deployment),
    }


def _duration(deployment: Deployment) -> str:
    if deployment.duration is None:
        return ""
    seconds = int(deployment.duration.total_seconds())
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def queue_warning(request, deployment: Deployment) -> None:
    """Warn whoever just queued ``deployment`` if the queue did not take it (it stays queued)."""
    note = enqueue.queue_note(deployment)
    if note:
        messages.warning(request, note)


def _error_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def deployment_detail(request, pk: int):
    deployment = _deployment(request, pk)
    lines = logs.log_tail(deployment.pk, limit=TAIL_LINES)
    context = _status_context(request, deployment)
    context.update(
        lines=lines,
        after=lines[-1].seq if lines else 0,
        earlier=lines[0].seq if lines and lines[0].seq > 1 else None,
        levels=logs.LEVELS,
    )
    # What runs now against what this deployment set (it was the last success there).
    rows = list(drift.drift_list().filter(deployment=deployment))
    now = timezone.now()
    for row in rows:
        row.checked_ago = ago(row.checked_at, now)
    context.update(
        drift=rows,
        restore=any(r.state in drift.RESTORABLE for r in rows) and deployment.is_finished,
    )
    return render(request, "deployments/deployment_detail.html", context)


@login_required
def deployment_poll(request, pk: int):
    """New lines after ``?after=`` and the status card, as htmx out-of-band swaps.

    The deployment is read once, before its lines, and the card, the poller and the status code
    are all rendered from that one read.
    """
    deployment = _deployment(request, pk)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    finished, lines = logs.log_since(deployment, after)
    context = _status_context(request, deployment)
    context.update(lines=lines, after=lines[-1].seq if lines else after, finished=finished)
    response = render(request, "deployments/_deployment_poll.html", context)
    if finished:
        response.status_code = POLL_DONE
    return response


@login_required
def deployment_log_earlier(request, pk: int):
    """The lines before ``?before=`` (the page opens with the tail of a long log)."""
    deployment = _deployment(request, pk)
    try:
        before = int(request.GET["before"])
    except (KeyError, ValueError) as exc:
        raise Http404("before must be a line number") from exc
    lines = logs.log_tail(deployment.pk, limit=TAIL_LINES, before=before)
    earlier = lines[0].seq if lines and lines[0].seq > 1 else None
    return render(
        request,
        "deployments/_log_earlier.html",
        {"deployment": deployment, "lines": lines, "earlier": earlier},
    )


@login_required
def deployment_log_raw(request, pk: int):
    deployment = _deployment(request, pk)
    response = StreamingHttpResponse(
        logs.log_raw(deployment.pk), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="deployment-{deployment.pk}.log"'
    return response


@login_required
def deployment_cancel(request, pk: int):
    deployment = _deployment(request, pk)
    if request.method == "POST":
        try:
            services.deployment_cancel(deployment=deployment, user=request.user)
        except ValidationError as exc:
            messages.error(request, _error_message(exc))
        else:
            messages.success(request, f"Cancel requested for deployment {deployment.pk}.")
    return redirect("deployment-detail", pk=deployment.pk)


# What the services refuse with: lifecycle rules, and the same release already queued there.
REFUSED = (ValidationError, DeploymentConflict)


def _queue(request, deployment: Deployment, action):
    try:
        created = action()
    except REFUSED as exc:
        messages.error(request, _error_message(exc) if hasattr(exc, "messages") else str(exc))
    else:
        queue_warning(request, created)
        return redirect("deployment-detail", pk=created.pk)
    return redirect("deployment-detail", pk=deployment.pk)


@login_required
def deployment_redeploy(request, pk: int):
    deployment = _deployment(request, pk)
    if request.method != "POST":
        return redirect("deployment-detail", pk=deployment.pk)
    return _queue(
        request,
        deployment,
        lambda: services.deployment_redeploy(deployment=deployment, user=request.user),
    )


@login_required
def deployment_promote(request, pk: int):
    deployment = _deployment(request, pk)
    if request.method != "POST":
        return redirect("deployment-detail", pk=deployment.pk)
    return _queue(
        request,
        deployment,
        lambda: services.deployment_promote(release=deployment.release, user=request.user),
    )


@require_POST
@login_required
def deployment_review(request, pk: int, decision: str):
    """Approve or reject a deployment awaiting approval, with an optional comment."""
    deployment = _deployment(request, pk)
    review = services.deployment_approve if decision == "approve" else services.deployment_reject
    comment = request.POST.get("comment", "")[:2000]
    try:
        review(deployment=deployment, user=request.user, comment=comment)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        done = "approved" if decision == "approve" else "rejected"
        messages.success(request, f"Deployment {deployment.pk} {done}.")
    return redirect("deployment-detail", pk=deployment.pk)
