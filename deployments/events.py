"""The events a deployment's state changes leave in the outbox (``deployserver.core.events``).

Called by the engine and the services inside the transaction that changes the state, after the
change: the payload is read from the row as it now is, so a receiver sees the state the event
names.
"""

from __future__ import annotations

from django.urls import reverse

from deployserver.core.events import absolute_url, event_record

from .models import Deployment

EVENT_OF_STATE = {
    Deployment.State.AWAITING_APPROVAL: "deployment.awaiting_approval",
    Deployment.State.QUEUED: "deployment.queued",
    Deployment.State.EXECUTING: "deployment.started",
    Deployment.State.SUCCESS: "deployment.succeeded",
    Deployment.State.FAILED: "deployment.failed",
    Deployment.State.CANCELLED: "deployment.cancelled",
}


def deployment_payload(deployment: Deployment) -> dict:
    """What receivers are told about a deployment (no variable, no secret, no log line)."""
    release, project, environment = deployment.release, deployment.project, deployment.environment
    duration = deployment.duration if deployment.started_at else None
    return {
        "project": {"slug": project.slug, "name": project.name},
        "environment": {"slug": environment.slug, "name": environment.name},
        "release": {
            "id": release.pk,
            "version": release.version,
            "channel": release.channel.slug,
            "url": absolute_url(reverse("project-release", args=[release.pk])),
        },
        "deployment": {
            "id": deployment.pk,
            "state": deployment.state,
            "trigger": deployment.trigger,
            "created_by": deployment.created_by.get_username() if deployment.created_by else None,
            "created_at": deployment.created_at.isoformat(),
            "started_at": deployment.started_at.isoformat() if deployment.started_at else None,
            "finished_at": deployment.finished_at.isoformat() if deployment.finished_at else None,
            "duration_seconds": round(duration.total_seconds(), 1) if duration else None,
            "error": deployment.error,
            "url": absolute_url(reverse("deployment-detail", args=[deployment.pk])),
        },
    }


def deployment_event(deployment_id: int) -> None:
    """Record the event of the deployment's current state (in the caller's transaction)."""
    deployment = Deployment.objects.select_related(
        "release", "release__channel", "project", "environment", "created_by"
    ).get(pk=deployment_id)
    event_record(
        EVENT_OF_STATE[deployment.state],
        deployment_payload(deployment),
        project_id=deployment.project_id,
        environment_id=deployment.environment_id,
    )
