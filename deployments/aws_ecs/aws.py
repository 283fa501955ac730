"""The one module that talks to ECS: register, update, and follow a rollout.

The rollout follows AWS's semantics (not any emulator's): after ``UpdateService`` the deployment
succeeded when the PRIMARY deployment runs *our* task definition and its ``rolloutState`` is
``COMPLETED`` (or, where a service reports no rollout state, when ours is the only deployment left
and it runs as many tasks as desired). It failed when the rollout is ``FAILED``, when the PRIMARY
deployment runs another task definition (the circuit breaker rolled back), when ECS reports that
tasks cannot be placed, or when the timeout passes.

botocore's ``services_stable`` waiter answers only "stable or not", and it sleeps in a loop; a
deployment log needs each change of state, every new service event and every stopped task's
reason, and a worker must not sleep for one rollout, so the watcher is ours and loops nowhere:
``deployments.aws_ecs.follow`` checks many rollouts at once with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deployserver.core.aws import AwsError, describe_error

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


def run_task(ecs, request: dict[str, Any]) -> dict[str, Any]:
    """Start one task; its description. A task ECS could not place is an ``AwsError``."""
    response = call(ecs.run_task, **request)
    tasks = response.get("tasks") or []
    if not tasks:
        reasons = "; ".join(
            f"{f.get('reason', '?')}" + (f" ({f['detail']})" if f.get("detail") else "")
            for f in response.get("failures", [])
        )
        raise AwsError(
            f"ECS did not start the task: {reasons or 'no reason given'}.", code="RunTask"
        )
    return tasks[0]


def describe_tasks(ecs, cluster: str, tasks: list[str]) -> tuple[dict[str, dict], int]:
    """``({task ARN: description}, calls)``: 100 tasks per ``DescribeTasks`` (the API's limit)."""
    found: dict[str, dict] = {}
    calls = 0
    for chunk in _chunks(list(dict.fromkeys(tasks)), 100):
        calls += 1
        for task in call(ecs.describe_tasks, cluster=cluster, tasks=chunk).get("tasks") or []:
            found[task.get("taskArn", "")] = task
    return found, calls


def stop_task(ecs, cluster: str, task: str, reason: str) -> None:
    call(ecs.stop_task, cluster=cluster, task=task, reason=reason[:255])


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stopped_tasks(
    ecs, cluster: str, service: str, task_definition: str
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``(tasks, calls)``: stopped tasks of ``service`` running ``task_definition`` (ListTasks is
    paginated; DescribeTasks takes 100 at a time), and how many calls of each it took."""
    arns: list[str] = []
    calls = {"ListTasks": 0, "DescribeTasks": 0}
    paginator = ecs.get_paginator("list_tasks")
    try:
        for page in paginator.paginate(
            cluster=cluster, serviceName=service, desiredStatus="STOPPED"
        ):
            calls["ListTasks"] += 1
            arns.extend(page.get("taskArns", []))
    except (ClientError, BotoCoreError) as exc:
        raise describe_error(exc) from exc
    tasks: list[dict[str, Any]] = []
    for chunk in _chunks(arns, 100):
        calls["DescribeTasks"] += 1
        tasks += call(ecs.describe_tasks, cluster=cluster, tasks=chunk).get("tasks", [])
    return [t for t in tasks if t.get("taskDefinitionArn") == task_definition], calls


@dataclass
class RolloutResult:
    succeeded: bool
    reason: str
    running: int = 0
    desired: int = 0


def describe_services(ecs, cluster: str, services: list[str]) -> tuple[dict[str, dict], int]:
    """``({name: description}, calls)`` of ``services`` in ``cluster``: one ``DescribeServices``
    per 10 services (the API's limit). A service AWS does not know is absent from the answer;
    one that is not ACTIVE is there with its status."""
    found: dict[str, dict] = {}
    calls = 0
    names = list(dict.fromkeys(services))
    for chunk in _chunks(names, 10):
        calls += 1
        response = call(ecs.describe_services, cluster=cluster, services=chunk)
        for service in response.get("services") or []:
            for key in (service.get("serviceName"), service.get("serviceArn")):
                if key in chunk:
                    found[key] = service
    return found, calls


def service_problem(cluster: str, service: str, described: dict | None) -> str | None:
    """Why a described (or missing) service cannot be followed; ``None`` if it can."""
    if described is None:
        return f"Service {service} was not found in cluster {cluster}."
    if described.get("status") not in (None, "ACTIVE"):
        return f"Service {service} in cluster {cluster} is {described.get('status')}, not ACTIVE."
    return None


@dataclass
class RolloutWatcher:
    """Follows one service's rollout to ``task_definition`` and writes what changes to ``log``.

    It holds no connection and never sleeps: whoever checks rollouts describes the service (many
    at once, see ``describe_services``) and hands the description to ``observe``, which logs what
    changed and says whether the rollout is over. Between checks the watcher lives in the
    database as ``state()`` (JSON) and comes back with ``from_state``.

    ``known_events`` holds the ids of the service events already logged, or that existed before
    the update (history, not this rollout's progress). ``progress`` (optional) receives
    ``(running, desired)`` of the new revision on each change, for a progress bar. ``deadline``
    is a wall-clock time (``time.time()``): a rollout still going then has timed out.
    """

    cluster: str
    service: str
    task_definition: str
    log: LogFn
    deadline: float
    timeout: float = 600.0
    progress: Callable[[int, int], None] | None = None
    known_events: set[str] = field(default_factory=set)
    seen_tasks: set[str] = field(default_factory=set)
    last_state: list | None = None
    placement_failure: str | None = None
    look_for_stopped: bool = False
    last_failed: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    STATE_FIELDS = (
        "cluster",
        "service",
        "task_definition",
        "deadline",
        "timeout",
        "last_state",
        "placement_failure",
        "look_for_stopped",
        "last_failed",
    )

    def state(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.STATE_FIELDS}
        out["known_events"] = sorted(e for e in self.known_events if e)
        out["seen_tasks"] = sorted(self.seen_tasks)
        return out

    @classmethod
    def from_state(cls, state: dict[str, Any], *, log: LogFn, progress=None) -> RolloutWatcher:
        values = {name: state[name] for name in cls.STATE_FIELDS if name in state}
        return cls(
            **values,
            log=log,
            progress=progress,
            known_events=set(state.get("known_events") or ()),
            seen_tasks=set(state.get("seen_tasks") or ()),
        )

    def observe(self, ecs, service: dict[str, Any] | None, now: float) -> RolloutResult | None:
        """Log what changed since the last look; a result once the rollout is over.

        ``service`` is the service's description (``None`` when AWS no longer knows it). ``ecs``
        is used only to read stopped tasks, when the counts or events say tasks failed.
        """
        problem = service_problem(self.cluster, self.service, service)
        if problem:
            return RolloutResult(False, problem)
        result = self._judge(ecs, service)
        if result is not None:
            if not result.succeeded:
                self._log_stopped_tasks(ecs)
            return result
        if now >= self.deadline:
            self._log_stopped_tasks(ecs)
            return RolloutResult(
                False,
                f"The rollout of {short_arn(self.task_definition)} did not finish within "
                f"{int(self.timeout)} s.",
            )
        return None

    def _judge(self, ecs, service: dict[str, Any]) -> RolloutResult | None:
        events = service.get("events", [])
        self._log_events(events)
        # ECS keeps the last 100 events: ids no longer listed will never come back.
        listed = {e.get("id") for e in events}
        self.known_events &= listed
        deployments = service.get("deployments", [])
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        ours = next(
            (d for d in deployments if d.get("taskDefinition") == self.task_definition), None
        )
        self._log_state(ours)
        if self.look_for_stopped:  # only when the counts or events say tasks stopped
            self._log_stopped_tasks(ecs)

        if self.placement_failure:
            return RolloutResult(False, f"ECS cannot place the new tasks: {self.placement_failure}")
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
            if placement and self.placement_failure is None:
                self.placement_failure = message
            if "has stopped" in message:
                self.look_for_stopped = True
            self.log("warning" if placement else "info", f"ECS: {message}")

    def _log_state(self, ours) -> None:
        if ours is None:
            state = ["missing"]
        else:
            state = [
                ours.get("status"),
                ours.get("rolloutState"),
                ours.get("runningCount", 0),
                ours.get("pendingCount", 0),
                ours.get("desiredCount", 0),
                ours.get("failedTasks", 0),
            ]
        if state == self.last_state:
            return
        self.last_state = state
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
            if self.last_failed != failed:
                self.look_for_stopped = True
        self.last_failed = failed
        self.log("info", text)
        if self.progress is not None:
            self.progress(running, desired)

    def _log_stopped_tasks(self, ecs) -> None:
        self.look_for_stopped = False
        tasks, calls = stopped_tasks(ecs, self.cluster, self.service, self.task_definition)
        for name, count in calls.items():
            self.calls[name] = self.calls.get(name, 0) + count
        for task in tasks:
            arn = task.get("taskArn", "")
            if arn in self.seen_tasks:
                continue
            self.seen_tasks.add(arn)
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
