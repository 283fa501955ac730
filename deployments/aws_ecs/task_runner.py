"""Running the ``aws-ecs-run-task`` step: register the task definition, run one task, and follow
it to ``STOPPED`` in the check rounds (``DescribeTasks``, 100 tasks per call per cluster).

The task definition's ARN is recorded in the outputs before the task runs, and the task's ARN as
soon as it started, so what ran is always on the deployment. The step succeeds only if every
essential container exited 0; the stop code, the stop reason and each container's exit code and
reason are logged. A timeout or a cancel stops the task (``StopTask``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from deployserver.core.aws import AwsError

from ..exceptions import StepFailed
from ..runners import Check, CheckRound, Item
from . import runner as ecs
from .aws import (
    call,
    describe_tasks,
    register_task_definition,
    run_task,
    short_arn,
    stop_task,
)
from .task_step import ECS_RUN_TASK, TaskPlan

if TYPE_CHECKING:
    from ..engine import DeploymentRun


def run_task_step(run: DeploymentRun, step: dict) -> dict | None:
    """Plan, register, run; then the task to follow."""
    packages = ecs.step_packages(run.release, step, pin_digest=run.project.pin_digest)
    plan: TaskPlan = ECS_RUN_TASK.build_plan(
        step.get("properties") or {}, ecs.step_values(run, packages), packages
    )
    account = ecs.account_for(plan.aws_account)
    client = ecs.ecs_for(account, plan.region)
    cluster = plan.run_task["cluster"]
    run.log.info(f"AWS account {account.name}, region {plan.region}, cluster {cluster}.")
    mine = dict((run.outputs.get("steps") or {}).get(step["name"]) or {})
    arn = mine.get("task_definition_arn")
    essential = list(plan.essential)
    request = dict(plan.run_task)
    if plan.register_task_definition is None:
        # An existing task definition: its essential containers say what success is.
        td = call(client.describe_task_definition, taskDefinition=plan.run_task["taskDefinition"])
        td = td["taskDefinition"]
        arn = td["taskDefinitionArn"]
        containers = td.get("containerDefinitions") or []
        essential = [c["name"] for c in containers if c.get("essential", True)]
        for override in (request.get("overrides") or {}).get("containerOverrides", []):
            override["name"] = override["name"] or (containers[0]["name"] if containers else "")
        run.log.info(f"Running the existing task definition {short_arn(arn)}.")
        _record(run, step, task_definition_arn=arn)
    elif arn:
        run.log.info(f"Reusing task definition {short_arn(arn)}, registered for this deployment.")
    else:
        run.check_cancel()
        arn = register_task_definition(client, plan.register_task_definition)
        run.log.info(f"Registered task definition {short_arn(arn)}.")
        _record(run, step, task_definition_arn=arn)
    run.check_cancel()
    request["taskDefinition"] = arn
    task = run_task(client, request)
    task_arn = task.get("taskArn", "")
    _record(run, step, task_definition_arn=arn, task_arn=task_arn)
    command = (request.get("overrides") or {}).get("containerOverrides", [{}])[0].get("command")
    run.log.info(
        f"Started task {short_arn(task_arn)} of {short_arn(arn)}"
        + (f" with the command {' '.join(command)}" if command else "")
        + f"; following it until it stops (timeout {plan.timeout_minutes} min)."
    )
    timeout = plan.timeout_minutes * 60
    return {
        "kind": "task",
        "account": plan.aws_account,
        "region": plan.region,
        "cluster": cluster,
        "task": task_arn,
        "essential": essential,
        "deadline": ecs.clock() + timeout,
        "timeout": timeout,
        "status": task.get("lastStatus", ""),
    }


def _record(run: DeploymentRun, step: dict, **values: str) -> None:
    steps = dict(run.outputs.get("steps") or {})
    steps[step["name"]] = {**(steps.get(step["name"]) or {}), **values}
    run.save_outputs(steps=steps)


def check_tasks(items: Sequence[Item], round_: CheckRound) -> list[Check]:
    """Check every due task of ``items``: one DescribeTasks per 100 tasks per cluster."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, (_, _, wait) in enumerate(items):
        groups.setdefault((wait["account"], wait["region"], wait["cluster"]), []).append(index)
    checks: list[Check] = [Check(failed="Not checked.")] * len(items)
    for (slug, region, cluster), indexes in groups.items():
        round_.groups += 1
        try:
            client = ecs.ecs_for(ecs.account_for(slug), region)
            found, calls = describe_tasks(client, cluster, [items[i][2]["task"] for i in indexes])
            round_.count("DescribeTasks", calls)
        except (AwsError, StepFailed) as exc:
            for i in indexes:
                checks[i] = ecs.unreadable_until(items[i][0], items[i][2], exc)
            continue
        for i in indexes:
            run, _, wait = items[i]
            checks[i] = _check_one(run, client, wait, found.get(wait["task"]))
    return checks


def _check_one(run: DeploymentRun, client, wait: dict, task: dict | None) -> Check:
    name = short_arn(wait["task"])
    if task is None:
        return Check(failed=f"Task {name} was not found in cluster {wait['cluster']}.")
    status = task.get("lastStatus", "")
    if status != wait.get("status"):
        run.log.info(f"Task {name}: {status}.")
        wait = {**wait, "status": status}
    if status == "STOPPED":
        return _stopped(run, wait, task)
    if ecs.clock() >= wait["deadline"]:
        reason = f"The task {name} did not stop within {int(wait['timeout'])} s"
        try:
            stop_task(client, wait["cluster"], wait["task"], "deployserver: timeout")
        except AwsError as exc:
            return Check(failed=f"{reason}, and stopping it failed: {exc}")
        run.log.warning(f"{reason}: it was stopped.")
        return Check(failed=f"{reason}: it was stopped.")
    return Check(wait=wait)


def _stopped(run: DeploymentRun, wait: dict, task: dict) -> Check:
    name = short_arn(wait["task"])
    code, reason = task.get("stopCode") or "?", task.get("stoppedReason") or "no reason given"
    run.log.info(f"Task {name} stopped ({code}): {reason}")
    essential = set(wait.get("essential") or [])
    failed = []
    for container in task.get("containers", []):
        exit_code = container.get("exitCode")
        why = f" — {container['reason']}" if container.get("reason") else ""
        label = "exit code " + (str(exit_code) if exit_code is not None else "unknown")
        level = "info" if exit_code == 0 else "warning"
        run.log.write(level, f"Container {container.get('name')}: {label}{why}")
        if container.get("name") in essential and exit_code != 0:
            failed.append(f"{container.get('name')} ({label}{why})")
    if not task.get("containers"):
        failed.append("no container reported an exit code")
    if failed:
        return Check(failed=f"The task {name} failed: {'; '.join(failed)}. Stopped: {reason}")
    run.log.highlight(f"Task {name} completed: every essential container exited 0.")
    return Check()


def cancel_task(run: DeploymentRun, step: dict, wait: dict) -> str:
    """Stop the task of a deployment cancelled while it ran; what was done, for the message."""
    name = short_arn(wait["task"])
    who = run.deployment.cancel_requested_by or "someone"
    try:
        client = ecs.ecs_for(ecs.account_for(wait["account"]), wait["region"])
        stop_task(client, wait["cluster"], wait["task"], f"Cancelled by {who} in deployserver")
    except (AwsError, StepFailed) as exc:
        return f"while its task {name} ran; stopping the task failed: {exc}"
    return f"while its task {name} ran; the task was stopped."
