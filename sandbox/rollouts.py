"""ECS rollouts for the moto sandbox.

moto keeps a service's single deployment on the old task definition after ``UpdateService`` and
never completes it. Here an update that changes the task definition (or forces a new deployment)
creates a new PRIMARY deployment that moves ``IN_PROGRESS`` → ``COMPLETED`` over
``ROLLOUT_SECONDS`` with pending/running counts and service events, while the previous
deployment drains. A task definition whose image tag contains ``fail`` never becomes healthy:
its tasks stop with a reason and the rollout ends ``FAILED``; with the circuit breaker's rollback
on, ECS rolls back to the previous task definition, as AWS does.

Progress is computed from the clock when services are described, so no thread is needed. The
service's tasks exist too (moto's own services start none): a completed rollout leaves
``desiredCount`` RUNNING tasks of the new revision and stops the previous ones, and a failing one
leaves STOPPED tasks with their ``stoppedReason``, so ``ListTasks``/``DescribeTasks`` answer as on
AWS (tools that count running tasks, such as ``ecs deploy``, see the rollout finish).

One-off tasks (``RunTask``, the run-task step) start ``PENDING``, run, and stop after
``TASK_SECONDS`` with their containers' exit code 0 — or 1 for an image whose tag contains
``fail`` — as ``DescribeTasks`` shows; ``StopTask`` stops them (``UserInitiated``, exit 137).

``tasks_short`` makes a service run fewer tasks than desired (a service whose tasks keep
crashing), for the drift round's "degraded".
"""

from __future__ import annotations

import copy
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.ecr.models import ecr_backends
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.moto_api import state_manager

ROLLOUT_SECONDS = float(os.environ.get("DEPLOYSERVER_SANDBOX_ROLLOUT_SECONDS", "6"))
# How long a one-off task (RunTask) runs before it stops, exit code 0 — or 1 when an image's tag
# contains FAIL_MARKER (a failing migration, for the demo and the tests).
TASK_SECONDS = float(os.environ.get("DEPLOYSERVER_SANDBOX_TASK_SECONDS", "3"))
FAIL_MARKER = "fail"

_installed = False
_lock = threading.Lock()


def _now() -> datetime:
    return datetime.now(UTC)


def _event(service, message: str) -> None:
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": message})
    del service.events[100:]


def _images(backend, task_definition_arn: str) -> list[str]:
    try:
        td = backend.describe_task_definition(task_definition_arn)
    except Exception:  # noqa: BLE001 - an unknown revision just means "no images"
        return []
    return [c.get("image", "") for c in td.container_definitions]


def _image_tags(backend, image: str) -> list[str]:
    """The tags of an image reference: its own tag, or the ECR tags of its pinned digest."""
    if "@" not in image:
        tail = image.rsplit("/", 1)[-1]
        return [tail.split(":", 1)[1]] if ":" in tail else []
    repository, digest = image.split("@", 1)
    name = repository.split("/", 1)[-1]
    try:
        ecr = ecr_backends[backend.account_id][backend.region_name]
        repo = ecr.repositories.get(name)
        images = repo.images if repo else []
    except Exception:  # noqa: BLE001 - an image outside the sandbox's ECR has no known tags
        return []
    return [
        tag
        for found in images
        if found.get_image_digest() == digest
        for tag in (found.image_tags or [found.image_tag])
        if tag
    ]


def _deployment(service, task_definition: str, desired: int, state: str) -> dict[str, Any]:
    now = _now()
    dep_id = f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"
    return {
        "id": dep_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": service.launch_type,
        "rolloutState": state,
        "rolloutStateReason": f"ECS deployment {dep_id} in progress.",
    }


def _start_tasks(backend, service, task_definition: str, count: int, started_by: str) -> list:
    """moto tasks of ``service`` (RUNNING, and kept so: tasks are frozen in their state)."""
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )
    try:
        cluster = backend._get_cluster(service.cluster_name)
        # moto cannot attach a network interface to an awsvpc task (it crashes): the task is
        # made from a copy that claims another network mode; its ARN and containers are the same.
        definition = copy.copy(backend.describe_task_definition(task_definition))
        definition.network_mode = "bridge"
        tasks = [
            Task(
                cluster,
                definition,
                None,
                None,
                backend,
                group=f"service:{service.name}",
                launch_type=service.launch_type or "",
                started_by=started_by,
            )
            for _ in range(count)
        ]
    except Exception:  # noqa: BLE001 - a service moto cannot start tasks for simply has none
        return []
    for task in tasks:
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return tasks


def _stop_tasks(tasks: list, reason: str) -> None:
    for task in tasks:
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stopped_reason = reason


def _circuit_breaker(service) -> dict[str, Any]:
    config = getattr(service, "deployment_configuration", None) or {}
    return config.get("deploymentCircuitBreaker") or {}


def _start_rollout(backend, service, previous_td: str) -> None:
    desired = service.desired_count
    for dep in service.deployments:
        dep["status"] = "ACTIVE"
    new = _deployment(service, service.task_definition, desired, "IN_PROGRESS")
    new["pendingCount"] = desired
    service.deployments.insert(0, new)
    service.running_count = sum(d["runningCount"] for d in service.deployments)
    service.pending_count = desired
    service._sandbox_rollout = {
        "started": time.monotonic(),
        "deployment": new,
        "previous_td": previous_td,
        "fails": any(
            FAIL_MARKER in tag
            for image in _images(backend, service.task_definition)
            for tag in _image_tags(backend, image)
        ),
        "stage": 0,
        "stopped": 0,
    }


def _advance(backend, service) -> None:
    rollout = getattr(service, "_sandbox_rollout", None)
    if not rollout:
        return
    dep = rollout["deployment"]
    desired = dep["desiredCount"]
    elapsed = time.monotonic() - rollout["started"]
    name = service.name
    old = [d for d in service.deployments if d is not dep and d["status"] == "ACTIVE"]

    if rollout["stage"] == 0 and elapsed >= ROLLOUT_SECONDS * 0.15:
        rollout["stage"] = 1
        _event(service, f"(service {name}) has started {desired} tasks: (task {uuid.uuid4().hex}).")
    if rollout["fails"]:
        if (
            rollout["stage"] >= 1
            and rollout["stopped"] < 3
            and elapsed >= ROLLOUT_SECONDS * (0.3 + 0.2 * rollout["stopped"])
        ):
            rollout["stopped"] += 1
            dep["failedTasks"] = rollout["stopped"]
            _stop_tasks(
                _start_tasks(backend, service, dep["taskDefinition"], 1, dep["id"]),
                "Essential container in task exited",
            )
            _event(
                service,
                f"(service {name}) has stopped 1 running tasks: (task {uuid.uuid4().hex}). "
                "Reason: Essential container in task exited",
            )
        if elapsed >= ROLLOUT_SECONDS:
            _fail(backend, service, rollout, dep)
    else:
        if rollout["stage"] == 1:
            half = max(1, desired // 2)
            if elapsed >= ROLLOUT_SECONDS * 0.5:
                dep["runningCount"], dep["pendingCount"] = half, desired - half
            if elapsed >= ROLLOUT_SECONDS * 0.8:
                dep["runningCount"], dep["pendingCount"] = desired, 0
                for d in old:
                    d["runningCount"] = max(0, d["runningCount"] - half)
                    d["desiredCount"] = 0
        if elapsed >= ROLLOUT_SECONDS:
            dep.update(
                runningCount=desired,
                pendingCount=0,
                rolloutState="COMPLETED",
                rolloutStateReason=f"ECS deployment {dep['id']} completed.",
                updatedAt=_now(),
            )
            service.deployments[:] = [dep]
            _stop_tasks(
                getattr(service, "_sandbox_tasks", []),
                f"Scaling activity initiated by (deployment {dep['id']})",
            )
            service._sandbox_tasks = _start_tasks(
                backend, service, dep["taskDefinition"], desired, dep["id"]
            )
            _event(service, f"(service {name}) has reached a steady state.")
            _event(service, f"(service {name}) (deployment {dep['id']}) deployment completed.")
            service._sandbox_rollout = None
    service.running_count = sum(d["runningCount"] for d in service.deployments)
    service.pending_count = sum(d["pendingCount"] for d in service.deployments)


def _fail(backend, service, rollout, dep) -> None:
    dep.update(
        rolloutState="FAILED",
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
        pendingCount=0,
        runningCount=0,
        updatedAt=_now(),
    )
    service._sandbox_rollout = None
    breaker = _circuit_breaker(service)
    if breaker.get("enable") and breaker.get("rollback") and rollout["previous_td"]:
        _event(
            service,
            f"(service {service.name}) (deployment {dep['id']}) deployment failed: "
            "tasks failed to start.",
        )
        dep["status"] = "ACTIVE"
        service.task_definition = rollout["previous_td"]
        back = _deployment(service, rollout["previous_td"], dep["desiredCount"], "COMPLETED")
        back.update(
            runningCount=dep["desiredCount"],
            rolloutStateReason=f"ECS deployment {back['id']} completed.",
        )
        service.deployments[:] = [back]
        _event(service, f"(service {service.name}) rolling back to deployment {back['id']}.")
    else:
        _event(
            service,
            f"(service {service.name}) (deployment {dep['id']}) deployment failed: "
            "tasks failed to start.",
        )


def _run_tasks(backend, cluster_str: str, definition_str: str, overrides, started_by: str, launch):
    """RunTask as ECS does it, for the sandbox: moto cannot start an awsvpc task (it crashes),
    so the task is made from a copy that claims the bridge mode (ARN and containers the same)."""
    cluster = backend._get_cluster(cluster_str)
    definition = copy.copy(backend.describe_task_definition(definition_str))
    fails = any(FAIL_MARKER in tag for c in definition.container_definitions
                for tag in _image_tags(backend, c.get("image", "")))  # fmt: skip
    definition.network_mode = "bridge"
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )
    task = Task(
        cluster,
        definition,
        None,
        None,
        backend,
        group=f"family:{definition.family}",
        launch_type=launch or "",
        overrides=overrides or {},
        started_by=started_by or "",
    )
    task.last_status = "PENDING"
    task._sandbox_run = {"started": time.monotonic(), "fails": fails}
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return [task]


def _advance_task(task) -> None:
    run = getattr(task, "_sandbox_run", None)
    if not run:
        return
    elapsed = time.monotonic() - run["started"]
    if elapsed >= TASK_SECONDS * 0.3 and task.last_status == "PENDING":
        task.last_status = "RUNNING"
    if elapsed >= TASK_SECONDS:
        code = 1 if run["fails"] else 0
        task.last_status = task.desired_status = "STOPPED"
        task.stop_code = "EssentialContainerExited"
        task.stopped_reason = "Essential container in task exited"
        for container in task.containers:
            container.last_status = "STOPPED"
            container.exitCode = code
            if code:
                container.reason = "Error: the command exited with status 1"
        task._sandbox_run = None


def tasks_short(*, account_id: str, region: str, cluster: str, service: str, running: int) -> None:
    """Make a service run only ``running`` tasks whatever its desired count — as when its tasks
    keep crashing and ECS cannot replace them — until its next rollout. For the demo and tests
    (the drift round then finds it degraded); the moto server must run in this process."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account_id][region]
    with _lock:
        found = backend._get_service(cluster, service)
        found.running_count = running
        found.pending_count = max(0, found.desired_count - running)
        for dep in found.deployments:
            if dep.get("status") == "PRIMARY":
                dep["runningCount"], dep["pendingCount"] = running, found.pending_count


def install() -> None:
    """Patch moto's ECS backend in this process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        original_update = EC2ContainerServiceBackend.update_service
        original_describe = EC2ContainerServiceBackend.describe_services

        def update_service(self, service_properties):
            props = dict(service_properties)
            cluster = props.get("cluster", "default")
            name = props.get("service", "").split("/")[-1]
            before = self._get_service(cluster, name)
            previous_td = before.task_definition
            service = original_update(self, service_properties)
            changed = service.task_definition != previous_td
            if changed or props.get("force_new_deployment"):
                with _lock:
                    _start_rollout(self, service, previous_td)
            return service

        def describe_services(self, cluster_str, service_names_or_arns):
            services, failures = original_describe(self, cluster_str, service_names_or_arns)
            with _lock:
                for service in services:
                    _advance(self, service)
            return services, failures

        original_run_task = EC2ContainerServiceBackend.run_task
        original_describe_tasks = EC2ContainerServiceBackend.describe_tasks
        original_stop_task = EC2ContainerServiceBackend.stop_task

        def run_task(
            self, cluster_str, task_definition_str, count, overrides, started_by, *a, **kw
        ):
            launch = kw.get("launch_type", a[1] if len(a) > 1 else None)
            if count == 1 and launch in ("FARGATE", "EC2", None):
                with _lock:
                    return _run_tasks(
                        self, cluster_str, task_definition_str, overrides, started_by, launch
                    )
            return original_run_task(
                self, cluster_str, task_definition_str, count, overrides, started_by, *a, **kw
            )

        def describe_tasks(self, cluster_str, tasks):
            found = original_describe_tasks(self, cluster_str, tasks)
            with _lock:
                for task in found:
                    _advance_task(task)
            return found

        def stop_task(self, cluster_str, task_str, reason):
            task = original_stop_task(self, cluster_str, task_str, reason)
            if getattr(task, "_sandbox_run", None):
                task._sandbox_run = None
                task.stop_code = "UserInitiated"
                for container in task.containers:
                    container.last_status, container.exitCode = "STOPPED", 137
            return task

        EC2ContainerServiceBackend.update_service = update_service
        EC2ContainerServiceBackend.describe_services = describe_services
        EC2ContainerServiceBackend.run_task = run_task
        EC2ContainerServiceBackend.describe_tasks = describe_tasks
        EC2ContainerServiceBackend.stop_task = stop_task
        _installed = True
