"""The ``aws-ecs-run-task`` step: run one task to its end — a database migration before the
service is updated, say — and succeed only if every essential container exited 0.

Its task definition is built like the deploy step's (same properties, same rules:
``check_task_definition``), from the release's packages and variables; this module builds the
exact ``RegisterTaskDefinition`` and ``RunTask`` requests and calls nothing. The runner is
``deployments.aws_ecs.task_runner``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releases.steps import StepType, StepValidationError, add_error, is_expression, join
from releases.substitution import substitute_tree
from releases.variables import PackageInfo, package_variables

from .schema import RUN_TASK_SCHEMA
from .step import check_task_definition, register_request


@dataclass(frozen=True)
class TaskPlan:
    """What one run-task step will do once substituted."""

    aws_account: str
    region: str
    register_task_definition: dict | None  # None: an existing task definition is run
    run_task: dict
    essential: tuple[str, ...]
    timeout_minutes: int


def _ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class EcsRunTaskStep(StepType):
    type = "aws-ecs-run-task"
    label = "Run a task on Amazon ECS"
    schema = RUN_TASK_SCHEMA

    def check(self, properties, *, packages, path, errors, resolved):
        p = properties
        if not p["task_definition"]:
            for name, what in (("task_family", "a task family"), ("containers", "a container")):
                if not p[name] and join(path, name) not in errors:
                    add_error(
                        errors,
                        join(path, name),
                        f"Give {what}, or an existing task definition to run.",
                    )
            check_task_definition(p, path, errors)
        awsvpc = p["network_mode"] == "awsvpc"
        if awsvpc and resolved and not _ids(p["subnets"]):
            add_error(
                errors, join(path, "subnets"), "The awsvpc network mode needs at least one subnet."
            )
        if not awsvpc and not is_expression(p["network_mode"]) and p["subnets"]:
            add_error(
                errors,
                join(path, "subnets"),
                f"Subnets apply to the awsvpc network mode only (this task uses "
                f"{p['network_mode']}).",
            )
        command = p["command"]
        if command and not is_expression(command):
            try:
                shlex.split(command)
            except ValueError as exc:
                add_error(errors, join(path, "command"), f"The command cannot be split: {exc}.")

    def build_plan(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, PackageInfo]
    ) -> TaskPlan:
        """Substitute, validate the result as AWS would, and build the requests.

        Raises ``SubstitutionError`` (unresolved names, cycles) or ``StepValidationError``.
        """
        merged = {**values, **package_variables(packages)}
        p, errors = self.clean(substitute_tree(properties, merged), packages=[], resolved=True)
        if errors:
            raise StepValidationError(errors)
        existing = p["task_definition"]
        run: dict[str, Any] = {
            "cluster": p["cluster"],
            # RegisterTaskDefinition's ARN replaces the family when the engine runs it.
            "taskDefinition": existing or p["task_family"],
            "launchType": p["requires_compatibilities"],
            "count": 1,
            "startedBy": "deployserver",
        }
        if p["network_mode"] == "awsvpc":
            run["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": _ids(p["subnets"]),
                    "securityGroups": _ids(p["security_groups"]),
                    "assignPublicIp": "ENABLED" if p["assign_public_ip"] else "DISABLED",
                }
            }
        if p["command"]:
            # With an existing task definition the runner names its first container.
            first = p["containers"][0]["name"] if p["containers"] else ""
            run["overrides"] = {
                "containerOverrides": [{"name": first, "command": shlex.split(p["command"])}]
            }
        return TaskPlan(
            aws_account=p["aws_account"],
            region=p["region"],
            register_task_definition=None if existing else register_request(p),
            run_task=run,
            essential=tuple(c["name"] for c in p["containers"] if c["essential"]),
            timeout_minutes=p["timeout_minutes"],
        )

    def build_requests(self, properties, values, packages) -> tuple[dict, dict]:
        plan = self.build_plan(properties, values, packages)
        return plan.register_task_definition, plan.run_task

    def preview(self, properties, values, packages) -> dict[str, Any]:
        plan = self.build_plan(properties, values, packages)
        requests = {"RunTask": plan.run_task}
        if plan.register_task_definition is not None:
            requests = {"RegisterTaskDefinition": plan.register_task_definition, **requests}
        return {
            "aws_account": plan.aws_account,
            "region": plan.region,
            "requests": requests,
            "timeout_minutes": plan.timeout_minutes,
        }


ECS_RUN_TASK = EcsRunTaskStep()
