"""The deployment engine: claim a queued deployment, run its release's steps, record the end.

Rules kept here, whoever calls:

- **Only a queued deployment starts**, by a conditional UPDATE (``… WHERE state='queued'``): a
  second delivery of the same task, or a deployment cancelled while queued, exits without
  touching AWS.
- **One at a time per project × environment**, in order: a deployment starts only when no
  other of its project × environment is executing and none queued before it is still waiting.
  The claim holds the project's row lock for a moment so two workers cannot both decide "free".
  One that must wait simply exits; whoever frees the slot (a finished run, the reaper) enqueues
  the next in line, so none is lost and the order is kept.
- **A heartbeat** is written every few seconds by a ticker thread (which also flushes the log);
  the reaper (``deployment_reap``, run by beat) fails deployments whose heartbeat went stale.
- **No queued deployment is stranded**: the dispatcher (``deployment_dispatch``, run by beat)
  sends again the run of a queue head whose message never reached the queue or may be lost.
- **Every end is recorded**: success, failure with a clear message (AWS's own for AWS errors),
  cancellation naming who asked — nothing stays ``executing`` while its worker lives.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from deployserver.core.aws import AwsError
from releases.models import Project
from releases.releasing import release_variable_specs
from releases.steps import StepValidationError
from releases.substitution import SubstitutionError
from releases.variables import secrets_to_mask, variables_resolve

from .enqueue import broker_connection, enqueue, enqueue_after_commit
from .exceptions import DeploymentCancelled, DeploymentLost, RolloutCancelled, StepFailed
from .logs import LogWriter, log_append
from .models import Deployment, LogLine
from .runners import runner_for
from .services import deployment_auto_deploy

logger = logging.getLogger(__name__)


# Queue and mutex ------------------------------------------------------------------------------


def deployment_kick(*, project_id: int, environment_id: int) -> int | None:
    """Enqueue the next queued deployment of a project × environment if none is executing."""
    mine = Deployment.objects.filter(project_id=project_id, environment_id=environment_id)
    if mine.filter(state=Deployment.State.EXECUTING).exists():
        return None
    head = (
        mine.filter(state=Deployment.State.QUEUED).order_by("pk").values_list("pk", flat=True)
    ).first()
    if head is not None:
        enqueue_after_commit(head)
    return head


def deployment_claim(deployment_id: int, *, worker: str = "") -> Deployment | None:
    """Move a queued deployment to ``executing`` if its turn has come; else ``None``."""
    with transaction.atomic():
        row = Deployment.objects.filter(pk=deployment_id).values("project_id", "environment_id")
        row = row.first()
        if row is None:
            return None
        # Serialise claims of one project: "is the slot free?" and "take it" are one decision.
        Project.objects.select_for_update().filter(pk=row["project_id"]).exists()
        busy = (
            Deployment.objects.filter(
                project_id=row["project_id"], environment_id=row["environment_id"]
            )
            .filter(
                Q(state=Deployment.State.EXECUTING)
                | Q(state=Deployment.State.QUEUED, pk__lt=deployment_id)
            )
            .exists()
        )
        if busy:
            return None
        now = timezone.now()
        taken = Deployment.objects.filter(pk=deployment_id, state=Deployment.State.QUEUED).update(
            state=Deployment.State.EXECUTING,
            started_at=now,
            heartbeat_at=now,
            worker=worker[:200],
            progress_running=0,
            progress_desired=0,
        )
        if not taken:
            # Not queued (already run, running or cancelled): free the slot for the next one.
            deployment_kick(**row)
            return None
    return Deployment.objects.select_related(
        "release", "release__project", "environment", "created_by"
    ).get(pk=deployment_id)


def deployment_execute(deployment_id: int, *, worker: str = "") -> str | None:
    """Run one deployment if it is queued and its turn has come; returns its final state."""
    deployment = deployment_claim(deployment_id, worker=worker)
    if deployment is None:
        return None
    return DeploymentRun(deployment).execute()


# One run --------------------------------------------------------------------------------------


class Ticker(threading.Thread):
    """Flushes the log every 0.25 s and writes the heartbeat every few seconds."""

    def __init__(self, run: DeploymentRun):
        super().__init__(name=f"deployment-{run.deployment.pk}", daemon=True)
        self.run_ = run
        self.stopped = threading.Event()

    def run(self) -> None:
        beat_every = settings.DEPLOYSERVER_HEARTBEAT_SECONDS
        next_beat = time.monotonic() + beat_every
        try:
            while not self.stopped.wait(self.run_.flush_seconds):
                try:
                    self.run_.log.flush()
                    if time.monotonic() >= next_beat:
                        next_beat = time.monotonic() + beat_every
                        self.run_.heartbeat()
                except Exception:  # noqa: BLE001 - a failed beat is retried next tick
                    logger.exception("deployment %s: log flush or heartbeat failed", self.name)
                    close_old_connections()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class DeploymentRun:
    """The steps of one claimed deployment, with its log, heartbeat and outputs."""

    flush_seconds = 0.25

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.release = deployment.release
        self.project = deployment.release.project
        self.environment = deployment.environment
        self.specs = release_variable_specs(self.release)
        # The release's sensitive values and every text its process computes from them.
        self.secrets = secrets_to_mask(
            self.specs,
            variables_resolve(self.specs, self.environment.pk),
            [step.get("properties") or {} for step in self.release.process_snapshot],
        )
        self.log = LogWriter(deployment.pk, self.secrets)
        self.outputs: dict = dict(deployment.outputs or {})
        self.lost = False

    # Called by steps -------------------------------------------------------------------------

    def save_outputs(self, **values) -> None:
        self.outputs.update(values)
        Deployment.objects.filter(pk=self.deployment.pk).update(outputs=self.outputs)

    def progress(self, running: int, desired: int) -> None:
        Deployment.objects.filter(pk=self.deployment.pk).update(
            progress_running=running, progress_desired=desired
        )

    def cancel_requested(self) -> bool:
        state, requested = (
            Deployment.objects.filter(pk=self.deployment.pk)
            .values_list("state", "cancel_requested_at")
            .get()
        )
        if state != Deployment.State.EXECUTING:
            self.lost = True
            return True
        return requested is not None

    def check_cancel(self) -> None:
        if self.cancel_requested():
            raise DeploymentLost() if self.lost else DeploymentCancelled()

    def heartbeat(self) -> None:
        alive = Deployment.objects.filter(
            pk=self.deployment.pk, state=Deployment.State.EXECUTING
        ).update(heartbeat_at=timezone.now())
        if not alive:
            self.lost = True

    # The run ---------------------------------------------------------------------------------

    def execute(self) -> str:
        d = self.deployment
        ticker = Ticker(self)
        ticker.start()
        state, error = Deployment.State.FAILED, ""
        try:
            who = d.created_by.get_username() if d.created_by else "the system"
            self.log.highlight(
                f"Deploying {self.project.name} {self.release.version} to "
                f"{self.environment.name} (deployment {d.pk}, {d.trigger}, queued by {who})."
            )
            try:
                self._run_steps()
            except RolloutCancelled:
                raise DeploymentLost() if self.lost else DeploymentCancelled() from None
            state = Deployment.State.SUCCESS
            self.log.step = ""
            self.log.highlight(
                f"{self.project.name} {self.release.version} is deployed to "
                f"{self.environment.name}."
            )
        except DeploymentCancelled:
            state = Deployment.State.CANCELLED
            who = (
                Deployment.objects.filter(pk=d.pk)
                .values_list("cancel_requested_by", flat=True)
                .first()
            ) or "someone"
            error = f"Cancelled by {who} while executing."
            self.log.warning(error)
        except DeploymentLost:
            ticker.stop()
            self.log.flush()
            logger.warning("deployment %s was ended by someone else; stopping", d.pk)
            return Deployment.State.FAILED
        except (AwsError, StepFailed, StepValidationError, SubstitutionError) as exc:
            error = str(exc)
            self.log.error(error)
        except SoftTimeLimitExceeded:
            error = "The worker's time limit for one deployment was reached."
            self.log.error(error)
        except Exception as exc:  # noqa: BLE001 - every end must be recorded, never "executing"
            logger.exception("deployment %s crashed", d.pk)
            error = f"Internal error: {type(exc).__name__}: {exc}"
            self.log.error(error)
        finally:
            if ticker.is_alive():
                ticker.stop()
            self.log.flush()
        return self._finish(state, self.log.mask(error))

    def _run_steps(self) -> None:
        steps = self.release.process_snapshot or []
        if not steps:
            raise StepFailed(f"Release {self.release.version} has no steps to run.")
        for index, step in enumerate(steps, start=1):
            self.check_cancel()
            self.log.step = step.get("name", f"Step {index}")
            runner = runner_for(step.get("type"))
            if runner is None:
                raise StepFailed(f"Step {self.log.step}: unknown step type '{step.get('type')}'.")
            self.log.highlight(f"Step {index} of {len(steps)}: {self.log.step}")
            runner(self, step)

    def _finish(self, state: str, error: str) -> str:
        d = self.deployment
        with transaction.atomic():
            ended = Deployment.objects.filter(pk=d.pk, state=Deployment.State.EXECUTING).update(
                state=state,
                finished_at=timezone.now(),
                error=error[:5000],
                outputs=self.outputs,
            )
            if not ended:
                return Deployment.objects.values_list("state", flat=True).get(pk=d.pk)
            deployment_kick(project_id=d.project_id, environment_id=d.environment_id)
        if state == Deployment.State.SUCCESS:
            try:
                deployment_auto_deploy(release=self.release)
            except Exception:  # the deployment succeeded; a refused next phase is not its failure
                logger.exception("deployment %s: queueing automatic deployments failed", d.pk)
        return state


# The reaper ----------------------------------------------------------------------------------


def deployment_reap() -> list[int]:
    """Fail executing deployments whose worker stopped beating, and start the next in line.

    Returns the ids of the deployments marked "worker lost". Queue heads whose message was lost
    are the dispatcher's (``deployment_dispatch``).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.DEPLOYSERVER_WORKER_LOST_SECONDS)
    lost = list(
        Deployment.objects.filter(state=Deployment.State.EXECUTING).filter(
            Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
        )
    )
    reaped = []
    for deployment in lost:
        with transaction.atomic():
            seen = deployment.heartbeat_at or deployment.started_at
            message = (
                f"Worker lost: {deployment.worker or 'the worker'} stopped sending its heartbeat "
                f"(last at {seen:%H:%M:%S} UTC); the deployment was marked failed. Check the "
                "ECS service before deploying again."
            )
            ended = Deployment.objects.filter(
                pk=deployment.pk,
                state=Deployment.State.EXECUTING,
                heartbeat_at=deployment.heartbeat_at,
            ).update(state=Deployment.State.FAILED, finished_at=now, error=message)
            if not ended:
                continue
            log_append(deployment, LogLine.Level.ERROR, message)
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
