"""Writes and rules for deployments: create under the lifecycle, promote, cancel, redeploy,
approve or reject one waiting for approval.

Who may: ``deployserver.core.access`` (deploy and cancel need the deployer role in the
environment, approving the approver role; ``user=None`` is the system: automatic environments,
triggers, expiry). An environment that requires approval holds a new deployment in
``awaiting_approval``: it is neither queued nor sent until approved, so the engine never sees it.

Each service creates or changes rows in one transaction and enqueues work only after commit
(``transaction.on_commit``), carrying ids, never objects. An unreachable queue never fails a
service: the deployment stays queued, its ``enqueue_failed`` set (see ``enqueue.queue_note``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from deployserver.core.access import AccessDenied, Action, access_for, require
from deployserver.core.audit import audit_record
from deployserver.core.models import AuditEvent
from releases.models import Environment, Project, Release
from releases.releasing import release_create

from .enqueue import check_soon, enqueue_after_commit
from .events import deployment_event
from .exceptions import DeploymentConflict
from .models import Deployment
from .selectors import release_progress, release_standing


def _lock(release: Release) -> Release:
    # Decisions about one release (may it enter this phase? has the phase opened?) are taken one
    # at a time: two deployments finishing together must not both open the next phase.
    return (
        Release.objects.select_for_update().select_related("project", "channel").get(pk=release.pk)
    )


def _create(release: Release, environment: Environment, user, trigger: str) -> Deployment:
    require(user, Action.DEPLOY, release.project, environment)
    awaiting = environment.requires_approval
    deployment = Deployment(
        release=release,
        project=release.project,
        environment=environment,
        state=Deployment.State.AWAITING_APPROVAL if awaiting else Deployment.State.QUEUED,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        trigger=trigger,
    )
    deployment.full_clean()
    deployment.save()
    deployment_event(deployment.pk)  # deployment.queued (or .awaiting_approval)
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=deployment,
        summary=f"Queued {trigger} deployment of {release.project.name} {release.version} "
        f"to {environment.name}" + (", awaiting approval" if awaiting else ""),
    )
    if not awaiting:
        # Told whether the queue took the message: if not, the deployment stays queued (the row
        # is the truth) and the dispatcher sends it when the queue is back.
        enqueue_after_commit(deployment.pk, instance=deployment)
    return deployment


@transaction.atomic
def deployment_create(
    *, release: Release, environment: Environment, user, trigger: str = "manual"
) -> Deployment:
    """Queue a deployment of ``release`` to ``environment`` if its lifecycle allows it now."""
    require(user, Action.DEPLOY, release.project, environment)
    release = _lock(release)
    progression = release_progress(release)
    if not progression.allows(environment):
        raise ValidationError({"environment": [progression.reason(environment)]})
    # A second click on "Deploy" must not queue the same work twice.
    pending = (
        release.deployments.filter(environment=environment)
        .exclude(state__in=Deployment.FINISHED)
        .first()
    )
    if pending is not None:
        raise DeploymentConflict(
            f"Release {release.version} is already {pending.state} in {environment.name} "
            f"(deployment {pending.pk})."
        )
    return _create(release, environment, user, trigger)


@transaction.atomic
def release_publish(*, project: Project, user, **data) -> Release:
    """Create a release and queue its automatic environments of the phases open from the start.

    ``data`` is what ``releases.releasing.release_create`` takes. Either both happen or neither.
    """
    release = release_create(project=project, user=user, **data)
    deployment_auto_deploy(release=release)
    return release


@transaction.atomic
def deployment_promote(*, release: Release, user) -> Deployment:
    """Deploy ``release`` to the next environment its lifecycle allows."""
    release = _lock(release)
    progression = release_progress(release)
    target = progression.next_environment
    if target is None:
        reasons = sorted(set(progression.blocked.values()))
        detail = (
            f" {reasons[0]}" if reasons else " It has reached every environment of its lifecycle."
        )
        raise ValidationError(f"Release {release.version} cannot be promoted now.{detail}")
    require(user, Action.DEPLOY, release.project, target)
    return _create(release, target, user, "promotion")


@transaction.atomic
def deployment_redeploy(*, deployment: Deployment, user) -> Deployment:
    """Deploy the same release to the same environment again."""
    return deployment_create(
        release=deployment.release,
        environment=deployment.environment,
        user=user,
        trigger="redeploy",
    )


@transaction.atomic
def deployment_cancel(*, deployment: Deployment, user) -> Deployment:
    """Cancel: a queued deployment never starts; an executing one stops at its next check (one
    waiting for its rollout is checked at once). The service is left as it is: see README."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    require(user, Action.DEPLOY, deployment.project, deployment.environment)
    if deployment.is_finished:
        raise ValidationError(f"This deployment already ended ({deployment.state}).")
    now = timezone.now()
    who = user.get_username() if getattr(user, "is_authenticated", False) else "system"
    deployment.cancel_requested_at = now
    deployment.cancel_requested_by = who
    fields = ["cancel_requested_at", "cancel_requested_by"]
    if deployment.state in (Deployment.State.QUEUED, Deployment.State.AWAITING_APPROVAL):
        deployment.state = Deployment.State.CANCELLED
        deployment.finished_at = now
        deployment.error = f"Cancelled by {who} before it started."
        fields += ["state", "finished_at", "error"]
    elif deployment.phase == Deployment.Phase.WAITING:
        deployment.next_check_at = now  # the next check round ends it
        fields.append("next_check_at")
    deployment.save(update_fields=fields)
    if deployment.state == Deployment.State.CANCELLED:
        deployment_event(deployment.pk)
    if "next_check_at" in fields:
        check_soon(now)
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=deployment,
        summary=f"Cancelled deployment {deployment.pk} ({deployment.release.version} to "
        f"{deployment.environment.name})",
    )
    return deployment


@transaction.atomic
def deployment_auto_deploy(*, release: Release) -> list[Deployment]:
    """Queue the automatic environments of every phase that is now open, exactly once.

    Called after a deployment of ``release`` succeeds. The release row lock serialises
    concurrent callers, and an environment that already has a deployment of this release is
    never queued again.
    """
    release = _lock(release)
    standing = release_standing(release)
    progression, phases = standing.progression, standing.phases
    reached = set(release.deployments.values_list("environment_id", flat=True))
    created = []
    for index in progression.open_phases:
        for environment in phases[index].automatic:
            if environment.pk not in reached:
                created.append(_create(release, environment, None, "automatic"))
                reached.add(environment.pk)
    return created


# Approvals ---------------------------------------------------------------------------------------


def approval_refusal(user, deployment: Deployment) -> str | None:
    """Why ``user`` may not approve or reject ``deployment`` now; None when they may."""
    if deployment.state != Deployment.State.AWAITING_APPROVAL:
        return f"This deployment is not awaiting approval (it is {deployment.get_state_display()})."
    reason = access_for(user).reason(Action.APPROVE, deployment.project, deployment.environment)
    if reason:
        return reason
    environment = deployment.environment
    if (
        environment.approval_by_other
        and user is not None
        and deployment.created_by_id is not None
        and deployment.created_by_id == user.pk
    ):
        return f"{environment.name} needs approval by someone other than who queued the deployment."
    return None


def _review(deployment: Deployment, user, comment: str) -> Deployment:
    deployment = (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("environment", "project", "release")
        .get(pk=deployment.pk)
    )
    refusal = approval_refusal(user, deployment)
    if refusal:
        if deployment.state != Deployment.State.AWAITING_APPROVAL:
            raise ValidationError(refusal)
        raise AccessDenied(
            refusal,
            user=user,
            action=Action.APPROVE,
            project=deployment.project,
            environment=deployment.environment,
        )
    deployment.reviewed_by = user if getattr(user, "is_authenticated", False) else None
    deployment.reviewed_at = timezone.now()
    deployment.review_comment = comment.strip()[:2000]
    return deployment


@transaction.atomic
def deployment_approve(*, deployment: Deployment, user, comment: str = "") -> Deployment:
    """Approve a deployment awaiting approval: it is queued and sent like any other."""
    deployment = _review(deployment, user, comment)
    deployment.state = Deployment.State.QUEUED
    deployment.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])
    deployment_event(deployment.pk)  # deployment.queued, now that it is
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=deployment,
        summary=f"Approved deployment {deployment.pk} ({deployment.release.version} to "
        f"{deployment.environment.name})" + (f": {deployment.review_comment}" if comment else ""),
    )
    enqueue_after_commit(deployment.pk, instance=deployment)
    return deployment


@transaction.atomic
def deployment_reject(*, deployment: Deployment, user, comment: str = "") -> Deployment:
    """Reject a deployment awaiting approval: it ends ``cancelled`` with the reason."""
    deployment = _review(deployment, user, comment)
    who = user.get_username() if getattr(user, "is_authenticated", False) else "system"
    deployment.state = Deployment.State.CANCELLED
    deployment.finished_at = deployment.reviewed_at
    deployment.error = f"Rejected by {who}" + (
        f": {deployment.review_comment}" if deployment.review_comment else "."
    )
    deployment.save(
        update_fields=[
            "state",
            "finished_at",
            "error",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]
    )
    deployment_event(deployment.pk)  # deployment.cancelled
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=deployment,
        summary=f"Rejected deployment {deployment.pk} ({deployment.release.version} to "
        f"{deployment.environment.name})" + (f": {deployment.review_comment}" if comment else ""),
    )
    return deployment


def deployments_expire_approvals(*, days: int | None = None) -> list[int]:
    """Cancel deployments awaiting approval for longer than ``days``
    (``DEPLOYSERVER_APPROVAL_EXPIRY_DAYS``); run by beat. Returns their ids."""
    days = settings.DEPLOYSERVER_APPROVAL_EXPIRY_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    expired = []
    stale = Deployment.objects.filter(
        state=Deployment.State.AWAITING_APPROVAL, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            deployment = (
                Deployment.objects.select_for_update(of=("self",))
                .select_related("environment", "release")
                .filter(pk=pk, state=Deployment.State.AWAITING_APPROVAL)
                .first()
            )
            if deployment is None:
                continue  # approved or rejected meanwhile
            now = timezone.now()
            deployment.state = Deployment.State.CANCELLED
            deployment.finished_at = now
            deployment.error = f"Expired: nobody approved it within {days:g} days."
            deployment.save(update_fields=["state", "finished_at", "error"])
            deployment_event(deployment.pk)  # deployment.cancelled
            audit_record(
                user=None,
                action=AuditEvent.Action.UPDATE,
                obj=deployment,
                summary=f"Deployment {deployment.pk} ({deployment.release.version} to "
                f"{deployment.environment.name}) expired awaiting approval",
            )
            expired.append(pk)
    return expired
