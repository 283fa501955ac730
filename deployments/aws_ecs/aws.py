"""The one module that talks to ECS: register, update, and follow a rollout.

The rollout follows AWS's semantics (not any emulator's): after ``UpdateService`` the deployment
succeeded when the PRIMARY deployment runs *our* task definition and its ``rolloutState`` is
``COMPLETED`` (or, where a service reports no rollout state, when ours is the only deployment left
and it runs as many tasks as desired). It failed when the rollout is ``FAILED``, when the PRIMARY
deployment runs another task definition (the circuit breaker rolled back), when ECS reports that
tasks cannot be placed, or when the timeout passes.

botocore's ``services_stable`` waiter answers only "stable or not"; a deployment log needs each
change of state, every new service event and every stopped task's reason, so the loop is ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deployserver.core.aws import AwsError, describe_error

from ..exceptions import RolloutCancelled

PLACEMENT_FAILURES = ("unable to place a task", "was unable to place", "unable to place tasks")

LogFn = Callable[[str, str], None]  # (level, text)


def short_arn(arn: str) -> str:
    """The last part of an ARN (``web:7`` of a task definition's), for logs; ``none`` if blank."""
    return arn.rsplit("/", 1)[-1] if arn else "none"


def call(fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call a boto3 client method; AWS and connection errors become ``AwsError``."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise describe_error(exc) from exc


def describe_service(ecs, cluster: str, service: str) -> dict[str, Any]:
    response = call(ecs.describe_services, cluster=cluster, services=[service])
    services = response.get("services") or []
    if not services:
        reasons = ", ".join(f.get("reason", "?") for f in response.get("failures", [])) or "MISSING"
        raise AwsError(
            f"Service {service} was not found in cluster {cluster} ({reasons}).",
            code="ServiceNotFoundException",
        )
    found = services[0]
    if found.get("status") not in (None, "ACTIVE"):
        raise AwsError(
            f"Service {service} in cluster {cluster} is {found.get('status')}, not ACTIVE.",
            code="ServiceNotActive",
        )
    return found


def register_task_definition(ecs, request: dict[str, Any]) -> str:
    """Register a task definition revision; returns its ARN."""
    return call(ecs.register_task_definition, **request)["taskDefinition"]["taskDefinitionArn"]


def update_service(ecs, request: dict[str, Any]) -> dict[str, Any]:
    return call(ecs.update_service, **request)["service"]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stopped_tasks(ecs, cluster: str, service: str, task_definition: str) -> list[dict[str, Any]]:
    """Stopped tasks of ``service`` running ``task_definition`` (ListTasks is paginated)."""
    arns: list[str] = []
    paginator = ecs.get_paginator("list_tasks")
    try:
        for page in paginator.paginate(
            cluster=cluster, serviceName=service, desiredStatus="STOPPED"
        ):
            arns.extend(page.get("taskArns", []))
    except (ClientError, BotoCoreError) as exc:
        raise describe_error(exc) from exc
    tasks: list[dict[str, Any]] = []
    for chunk in _chunks(arns, 100):  # DescribeTasks takes at most 100 tasks
        tasks += call(ecs.describe_tasks, cluster=cluster, tasks=chunk).get("tasks", [])
    return [t for t in tasks if t.get("taskDefinitionArn") == task_definition]


@dataclass
class RolloutResult:
    succeeded: bool
    reason: str
    running: int = 0
    desired: int = 0


@dataclass
class RolloutWatcher:
    """Follows one service's rollout to ``task_definition`` and writes what changes to ``log``.

    ``known_events`` holds the ids of the service events that existed before the update (read
    them with ``describe_service`` first): those are history, not this rollout's progress.

    ``progress`` (optional) receives ``(running, desired)`` of the new revision on each change,
    for a progress bar. ``should_cancel`` is asked before each poll.
    """

    ecs: Any
    cluster: str
    service: str
    task_definition: str
    log: LogFn
    timeout: float = 600.0
    interval: float = 5.0
    should_cancel: Callable[[], bool] = lambda: False
    progress: Callable[[int, int], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    known_events: set[str] = field(default_factory=set)
    _seen_tasks: set[str] = field(default_factory=set)
    _last_state: tuple | None = None
    _placement_failure: str | None = None
    _look_for_stopped: bool = False
    _last_failed: int = 0

    def watch(self) -> RolloutResult:
        deadline = self.clock() + self.timeout
        while True:
            if self.should_cancel():
                raise RolloutCancelled()
            result = self.poll()
            if result is not None:
                if not result.succeeded:
                    self._log_stopped_tasks()
                return result
            if self.clock() >= deadline:
                self._log_stopped_tasks()
                return RolloutResult(
                    False,
                    f"The rollout of {short_arn(self.task_definition)} did not finish within "
                    f"{int(self.timeout)} s.",
                )
            self.sleep(self.interval)

    def poll(self) -> RolloutResult | None:
        """One look at the service; a result when the rollout is over, else ``None``."""
        service = describe_service(self.ecs, self.cluster, self.service)
        self._log_events(service.get("events", []))
        deployments = service.get("deployments", [])
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        ours = next(
            (d for d in deployments if d.get("taskDefinition") == self.task_definition), None
        )
        self._log_state(ours)
        if self._look_for_stopped:
            self._look_for_stopped = False
            self._log_stopped_tasks()

        if self._placement_failure:
            return RolloutResult(
                False, f"ECS cannot place the new tasks: {self._placement_failure}"
            )
        if ours is not None and ours.get("rolloutState") == "FAILED":
            reason = ours.get("rolloutStateReason") or "the rollout failed"
            return RolloutResult(False, f"ECS reports the rollout FAILED: {reason}")
        if primary is not None and primary.get("taskDefinition") != self.task_definition:
            return RolloutResult(
                False,
                "ECS rolled the service back to "
                f"{short_arn(primary.get('taskDefinition', '?'))}: the new revision "
                f"{short_arn(self.task_definition)} did not become healthy "
                "(deployment circuit breaker).",
            )
        if ours is None or primary is None:
            return None
        running, desired = ours.get("runningCount", 0), ours.get("desiredCount", 0)
        state = ours.get("rolloutState")
        if state == "COMPLETED" or (state is None and len(deployments) == 1 and running == desired):
            return RolloutResult(True, "The service reached a steady state.", running, desired)
        return None

    def _log_events(self, events: list[dict[str, Any]]) -> None:
        # describe_services returns the newest events first; log the new ones oldest first.
        new = [e for e in events if e.get("id") not in self.known_events]
        for event in reversed(new):
            self.known_events.add(event.get("id"))
            message = event.get("message", "")
            placement = self._is_placement_failure(message)
            if placement and self._placement_failure is None:
                self._placement_failure = message
            if "has stopped" in message:
                self._look_for_stopped = True
            self.log("warning" if placement else "info", f"ECS: {message}")

    def _log_state(self, ours) -> None:
        if ours is None:
            state = ("missing",)
        else:
            state = (
                ours.get("status"),
                ours.get("rolloutState"),
                ours.get("runningCount", 0),
                ours.get("pendingCount", 0),
                ours.get("desiredCount", 0),
                ours.get("failedTasks", 0),
            )
        if state == self._last_state:
            return
        self._last_state = state
        if ours is None:
            self.log(
                "warning", f"No deployment of {short_arn(self.task_definition)} on the service."
            )
            return
        status, rollout, running, pending, desired, failed = state
        text = (
            f"{short_arn(self.task_definition)}: {status} {rollout or ''} — "
            f"running {running}, pending {pending}, desired {desired}"
        ).replace("  ", " ")
        if failed:
            text += f", failed tasks {failed}"
            if self._last_failed != failed:
                self._look_for_stopped = True
        self._last_failed = failed
        self.log("info", text)
        if self.progress is not None:
            self.progress(running, desired)

    def _log_stopped_tasks(self) -> None:
        for task in stopped_tasks(self.ecs, self.cluster, self.service, self.task_definition):
            arn = task.get("taskArn", "")
            if arn in self._seen_tasks:
                continue
            self._seen_tasks.add(arn)
            reasons = [task.get("stoppedReason") or "no reason given"]
            reasons += [
                f"{c.get('name')}: {c.get('reason') or 'exit code ' + str(c.get('exitCode'))}"
                for c in task.get("containers", [])
                if c.get("reason") or c.get("exitCode") not in (None, 0)
            ]
            self.log("warning", f"Task {short_arn(arn)} stopped: {'; '.join(reasons)}")

    @staticmethod
    def _is_placement_failure(message: str) -> bool:
        return any(marker in message.lower() for marker in PLACEMENT_FAILURES)
