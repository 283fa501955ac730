"""The deployment engine: claim a queued deployment, run its release's steps, record the end.

A deployment holds a worker only while AWS calls for it are in flight. Its steps run in short
turns (``deployments.runners``): a worker claims the deployment and runs steps until one has
something to follow (a rollout); the deployment then *waits* (``phase='waiting'``, its
``cursor`` saying what it follows, ``next_check_at`` when to look) and the worker is free.
*Check rounds* (``deployments.rounds``) read every due deployment together and carry each on
(next step, rollback, end) with the same ``DeploymentRun``; beat's upkeep
(``deployments.upkeep``) reaps deployments whose worker died and sends again lost queue messages.

Rules kept here, whoever calls:

- **Only a queued deployment starts**, by a conditional UPDATE (``… WHERE state='queued'``): a
  second delivery of the same task, or a deployment cancelled while queued, exits without
  touching AWS.
- **One at a time per project × environment**, in order: a deployment starts only when no
  other of its project × environment is executing and none queued before it is still waiting.
  The claim holds the project's row lock for a moment so two workers cannot both decide "free".
  One that must wait simply exits; whoever frees the slot (a finished run, the reaper) enqueues
  the next in line, so none is lost and the order is kept.
- **A heartbeat** is written every few seconds by a ticker thread (which also flushes the log)
  for every deployment a worker holds (``acting`` or ``checking``), for the reaper to tell a
  live worker from a dead one.
- **Only a worker that took the deployment** (``acting``) registers or updates anything.
- **Every end is recorded**: success, failure with a clear message (AWS's own for AWS errors),
  cancellation naming who asked — nothing stays ``executing`` while its worker lives — with the
  figures the insights keep (``deployments.insights.record``) in the same transaction.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from deployserver.core.aws import AwsError
from releases.models import Project
from releases.releasing import release_variable_specs
from releases.steps import StepValidationError
from releases.substitution import SubstitutionError
from releases.variables import secrets_to_mask, variables_resolve

from .enqueue import check_soon, enqueue_after_commit
from .events import deployment_event
from .exceptions import DeploymentCancelled, DeploymentLost, StepFailed
from .insights import insights_record
from .logs import LogWriter
from .models import Deployment
from .runners import Check, runner_for
from .services import deployment_auto_deploy

logger = logging.getLogger(__name__)

EXECUTING, WAITING = Deployment.State.EXECUTING, Deployment.Phase.WAITING
ACTING, CHECKING = Deployment.Phase.ACTING, Deployment.Phase.CHECKING


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
            phase=ACTING,
            cursor={"step": 0},
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
        deployment_event(deployment_id)  # deployment.started, in the claim's transaction
    return Deployment.objects.select_related(
        "release", "release__project", "environment", "created_by"
    ).get(pk=deployment_id)


def deployment_execute(deployment_id: int, *, worker: str = "") -> str | None:
    """Start one deployment if it is queued and its turn has come: run its steps until one has
    a rollout to follow. Returns its state then (``executing`` while it waits), or ``None``."""
    deployment = deployment_claim(deployment_id, worker=worker)
    if deployment is None:
        return None
    run = DeploymentRun(deployment, worker=worker)
    with Ticker([run]):
        return run.start()


# Turns of one deployment ------------------------------------------------------------------------


class Ticker(threading.Thread):
    """While a worker holds deployments (an action, or a check round): flushes their logs every
    0.25 s and writes their heartbeat every few seconds. A context manager."""

    flush_seconds = 0.25

    def __init__(self, runs: Sequence[DeploymentRun]):
        super().__init__(name=f"deployments-{','.join(str(r.deployment.pk) for r in runs[:5])}")
        self.daemon = True
        self.runs = list(runs)
        self.stopped = threading.Event()

    def __enter__(self) -> Ticker:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def run(self) -> None:
        beat_every = settings.DEPLOYSERVER_HEARTBEAT_SECONDS
        next_beat = time.monotonic() + beat_every
        try:
            while not self.stopped.wait(self.flush_seconds):
                try:
                    for run in self.runs:
                        run.log.flush()
                    if time.monotonic() >= next_beat:
                        next_beat = time.monotonic() + beat_every
                        Deployment.objects.filter(
                            pk__in=[r.deployment.pk for r in self.runs],
                            state=EXECUTING,
                            phase__in=[ACTING, CHECKING],
                        ).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a failed beat is retried next tick
                    logger.exception("%s: log flush or heartbeat failed", self.name)
                    close_old_connections()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
        for run in self.runs:
            run.log.flush()


# The masked values of a deployment never change (its release's snapshot, its environment):
# worked out once per worker process and kept for the check rounds that follow it.
_SECRETS: OrderedDict[int, list[str]] = OrderedDict()
_SECRETS_KEPT = 1000


class DeploymentRun:
    """One turn of a deployment a worker holds: its steps, log, outputs and cursor."""

    def __init__(self, deployment: Deployment, *, worker: str = ""):
        self.deployment = deployment
        self.release = deployment.release
        self.project = deployment.release.project
        self.environment = deployment.environment
        self.worker = worker
        self.log = LogWriter(deployment.pk, lambda: self.secrets)
        self.outputs: dict = dict(deployment.outputs or {})
        self.cursor: dict = dict(deployment.cursor or {})
        self.lost = False
        self._cancelled_while = "while executing."

    @cached_property
    def specs(self):
        return release_variable_specs(self.release)

    @cached_property
    def secrets(self) -> list[str]:
        """The release's sensitive values and every text its process computes from them."""
        pk = self.deployment.pk
        if pk not in _SECRETS:
            _SECRETS[pk] = secrets_to_mask(
                self.specs,
                variables_resolve(self.specs, self.environment.pk),
                [step.get("properties") or {} for step in self.release.process_snapshot],
            )
            while len(_SECRETS) > _SECRETS_KEPT:
                _SECRETS.popitem(last=False)
        return _SECRETS[pk]

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

    # Turns -----------------------------------------------------------------------------------

    def start(self) -> str:
        """The first turn: announce the deployment and run steps from the first."""
        d = self.deployment
        who = d.created_by.get_username() if d.created_by else "the system"
        self.log.highlight(
            f"Deploying {self.project.name} {self.release.version} to "
            f"{self.environment.name} (deployment {d.pk}, {d.trigger}, queued by {who})."
        )
        return self._turn(lambda: self._steps_from(0))

    def resume(self, check: Check) -> str:
        """After a check of what the current step waits for: wait again, fail, or go on."""
        index = self.cursor.get("step", 0)
        self.log.step = self._step_name(index)
        if check.wait is not None:
            self.log.flush()
            self._hand_back(CHECKING, index, check.wait, schedule=False)  # the round schedules
            return EXECUTING
        if check.failed is not None:
            return self._turn(lambda: _raise(StepFailed(check.failed)))
        # The step is over: take the deployment as an action before the next step's AWS calls.
        taken = Deployment.objects.filter(
            pk=self.deployment.pk, state=EXECUTING, phase=CHECKING
        ).update(phase=ACTING, heartbeat_at=timezone.now(), worker=self.worker[:200])
        if not taken:
            self.log.flush()
            return Deployment.objects.values_list("state", flat=True).get(pk=self.deployment.pk)
        return self._turn(lambda: self._steps_from(index + 1))

    def cancel_waiting(self, runner, step: dict) -> str:
        """End a deployment whose cancel was asked while it waited (seen by a check round); the
        step's runner first undoes what must not go on (a task is stopped)."""
        wait = self.cursor.get("wait") or {}
        said = "while waiting."
        if runner is not None and runner.cancel is not None:
            try:
                said = runner.cancel(self, step, wait)
            except Exception as exc:  # noqa: BLE001 - the cancel is recorded whatever happened
                logger.exception("deployment %s: the step's cancel failed", self.deployment.pk)
                said = f"while waiting; undoing the step failed: {type(exc).__name__}: {exc}"
        self._cancelled_while = said
        return self._turn(lambda: _raise(DeploymentCancelled()))

    def _turn(self, body) -> str:
        """Run ``body`` (steps until one waits: returns True then) and record how it ended."""
        d = self.deployment
        state, error = Deployment.State.FAILED, ""
        try:
            if body():
                return EXECUTING
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
            error = f"Cancelled by {who} {self._cancelled_while}"
            self.log.warning(error)
        except DeploymentLost:
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
            self.log.flush()
        return self._finish(state, self.log.mask(error))

    def _step_name(self, index: int) -> str:
        steps = self.release.process_snapshot or []
        return steps[index].get("name", f"Step {index + 1}") if index < len(steps) else ""

    def _steps_from(self, first: int) -> bool:
        """Run the steps from ``first``; True when one waits (the deployment is handed back)."""
        steps = self.release.process_snapshot or []
        if not steps:
            raise StepFailed(f"Release {self.release.version} has no steps to run.")
        for index in range(first, len(steps)):
            step = steps[index]
            self.check_cancel()
            self.cursor = {"step": index}
            self.log.step = self._step_name(index)
            runner = runner_for(step.get("type"))
            if runner is None:
                raise StepFailed(f"Step {self.log.step}: unknown step type '{step.get('type')}'.")
            self.log.highlight(f"Step {index + 1} of {len(steps)}: {self.log.step}")
            wait = runner.start(self, step)
            if wait is not None:
                self.log.flush()  # every line of the action is in before anyone else writes
                if not self._hand_back(ACTING, index, wait):
                    raise DeploymentLost()
                return True
        return False

    def _hand_back(self, held: str, index: int, wait: dict, *, schedule: bool = True) -> bool:
        """Let the deployment wait for its next check; False if it was no longer ours."""
        due = next_check_time(timezone.now())
        self.cursor = {"step": index, "wait": wait}
        waiting = Deployment.objects.filter(
            pk=self.deployment.pk, state=EXECUTING, phase=held
        ).update(phase=WAITING, next_check_at=due, cursor=self.cursor)
        if waiting and schedule:
            check_soon(due)
        return bool(waiting)

    def _finish(self, state: str, error: str) -> str:
        d = self.deployment
        finished_at = timezone.now()
        with transaction.atomic():
            ended = Deployment.objects.filter(pk=d.pk, state=Deployment.State.EXECUTING).update(
                state=state,
                phase=Deployment.Phase.NONE,
                next_check_at=None,
                cursor={"step": self.cursor.get("step", 0)},
                finished_at=finished_at,
                error=error[:5000],
                outputs=self.outputs,
            )
            if not ended:
                return Deployment.objects.values_list("state", flat=True).get(pk=d.pk)
            d.state, d.finished_at = state, finished_at
            insights_record(d)
            deployment_kick(project_id=d.project_id, environment_id=d.environment_id)
            deployment_event(d.pk)  # its end, in the same transaction (the outbox)
            if state == Deployment.State.SUCCESS:
                # The phases its success opens queue their automatic environments in the same
                # transaction: whoever sees the success sees what it set going (the CLI's --wait
                # follows them). In a savepoint: a refused next phase is not this one's failure.
                try:
                    with transaction.atomic():
                        deployment_auto_deploy(release=self.release)
                except Exception:  # noqa: BLE001 - the deployment succeeded whatever comes next
                    logger.exception("deployment %s: queueing automatic deployments failed", d.pk)
        return state


def next_check_time(now: datetime) -> datetime:
    """When a deployment waiting from ``now`` is checked next: on a grid of the poll interval,
    between half an interval and one and a half from now (one on average). Every waiting
    deployment is due at the same ticks, so one round reads them together — one DescribeServices
    per 10 services of a cluster, not one per deployment that happened to start a moment later.
    """
    every = settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS
    tick = math.ceil((now.timestamp() + every / 2) / every) * every
    return datetime.fromtimestamp(tick, tz=UTC)


def _raise(exc: Exception):
    raise exc
