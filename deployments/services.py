"""Writes and rules for deployments: create under the lifecycle, promote, cancel, redeploy.

Each service creates or changes rows in one transaction and enqueues work only after commit
(``transaction.on_commit``), carrying ids, never objects. An unreachable queue never fails a
service: the deployment stays queued, its ``enqueue_failed`` set (see ``enqueue.queue_note``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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
    deployment = Deployment(
        release=release,
        project=release.project,
        environment=environment,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        trigger=trigger,
    )
    deployment.full_clean()
    deployment.save()
    deployment_event(deployment.pk)  # deployment.queued
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=deployment,
        summary=f"Queued {trigger} deployment of {release.project.name} {release.version} "
        f"to {environment.name}",
    )
    # Told whether the queue took the message: if not, the deployment stays queued (the row is
    # the truth) and the dispatcher sends it when the queue is back.
    enqueue_after_commit(deployment.pk, instance=deployment)
    return deployment


@transaction.atomic
def deployment_create(
    *, release: Release, environment: Environment, user, trigger: str = "manual"
) -> Deployment:
    """Queue a deployment of ``release`` to ``environment`` if its lifecycle allows it now."""
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
    if deployment.is_finished:
        raise ValidationError(f"This deployment already ended ({deployment.state}).")
    now = timezone.now()
    who = user.get_username() if getattr(user, "is_authenticated", False) else "system"
    deployment.cancel_requested_at = now
    deployment.cancel_requested_by = who
    fields = ["cancel_requested_at", "cancel_requested_by"]
    if deployment.state == Deployment.State.QUEUED:
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
