"""Beat's upkeep of the deployment queue: the reaper and the dispatcher.

- **The reaper** (``deployment_reap``) fails a deployment whose action's heartbeat went stale
  ("worker lost": an action may have been half done), hands a check whose round died back to the
  waiting (a check only reads), and starts the next in line. A *waiting* deployment is never
  lost: it has no worker to lose, and resumes at the next round after an outage.
- **No queued deployment is stranded**: the dispatcher (``deployment_dispatch``) sends again the
  run of a queue head whose message never reached the queue or may be lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .engine import deployment_kick
from .enqueue import broker_connection, check_soon, enqueue
from .events import deployment_event
from .insights import insights_record
from .logs import log_append
from .models import Deployment, LogLine

logger = logging.getLogger(__name__)

EXECUTING, WAITING = Deployment.State.EXECUTING, Deployment.Phase.WAITING
ACTING, CHECKING = Deployment.Phase.ACTING, Deployment.Phase.CHECKING


# The reaper ----------------------------------------------------------------------------------


def deployment_reap() -> list[int]:
    """Fail deployments whose action's worker stopped beating, hand checks whose round died back
    to the waiting, and start the next in line.

    Returns the ids of the deployments marked "worker lost". A waiting deployment is never
    reaped: nobody holds it. Queue heads whose message was lost are the dispatcher's
    (``deployment_dispatch``).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.DEPLOYSERVER_WORKER_LOST_SECONDS)
    is_stale = Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    # A check only reads: one whose round died is simply checked again.
    released = Deployment.objects.filter(is_stale, state=EXECUTING, phase=CHECKING).update(
        phase=WAITING, next_check_at=now
    )
    if released:
        logger.warning("%s check(s) whose round stopped go back to the waiting", released)
        check_soon(now)
    lost = list(
        Deployment.objects.filter(is_stale, state=EXECUTING).filter(
            phase__in=[ACTING, Deployment.Phase.NONE]
        )
    )
    reaped = []
    for deployment in lost:
        with transaction.atomic():
            seen = deployment.heartbeat_at or deployment.started_at
            message = (
                f"Worker lost: {deployment.worker or 'the worker'} stopped sending its heartbeat "
                f"(last at {seen:%H:%M:%S} UTC) in the middle of an action; the deployment was "
                "marked failed. Check the ECS service before deploying again."
            )
            ended = Deployment.objects.filter(
                pk=deployment.pk,
                state=EXECUTING,
                phase=deployment.phase,
                heartbeat_at=deployment.heartbeat_at,
            ).update(
                state=Deployment.State.FAILED,
                phase=Deployment.Phase.NONE,
                next_check_at=None,
                finished_at=now,
                error=message,
            )
            if not ended:
                continue
            deployment.state, deployment.finished_at = Deployment.State.FAILED, now
            insights_record(deployment)
            log_append(deployment, LogLine.Level.ERROR, message)
            deployment_event(deployment.pk)
            deployment_kick(
                project_id=deployment.project_id, environment_id=deployment.environment_id
            )
            reaped.append(deployment.pk)
    return reaped


# The dispatcher ------------------------------------------------------------------------------


def deployment_dispatch() -> list[int]:
    """Send again the run of each queue head whose message may have been lost; returns their ids.

    A queue head is a queued deployment first in line for its project × environment, with none
    of them executing (the claim's rule). It is sent again if no message is known to be in the
    queue (``enqueued_at`` empty: the queue was unreachable when it was queued or freed) or the
    last one went more than ``DEPLOYSERVER_REDISPATCH_SECONDS`` ago (a broker that lost its
    messages, a worker killed holding one). A healthy queue thus gets at most one duplicate per
    waiting head per that many seconds, and a duplicate is harmless: the claim is conditional.
    """
    resend_before = timezone.now() - timedelta(seconds=settings.DEPLOYSERVER_REDISPATCH_SECONDS)
    cell = {"project_id": OuterRef("project_id"), "environment_id": OuterRef("environment_id")}
    executing = Deployment.objects.filter(state=Deployment.State.EXECUTING, **cell)
    earlier = Deployment.objects.filter(
        state=Deployment.State.QUEUED, pk__lt=OuterRef("pk"), **cell
    )
    heads = list(
        Deployment.objects.filter(state=Deployment.State.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=resend_before))
        .exclude(Exists(executing))
        .exclude(Exists(earlier))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not heads:
        return []
    sent = []
    with broker_connection() as conn:
        for pk in heads:
            if enqueue(pk, connection=conn) is None:
                break  # the queue is still unreachable: the next round tries again
            sent.append(pk)
    if sent:
        logger.info("dispatched deployments %s again", ", ".join(map(str, sent)))
    return sent
