"""The ``aws-ecs-deploy`` step: register a task definition, then point the service at it.

This module describes the properties, validates what AWS would refuse (moto accepts nearly
anything) and builds the exact ``RegisterTaskDefinition`` and ``UpdateService`` requests. The
preview and the step's runner (``deployments.aws_ecs.runner``) both call ``build_plan``;
nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deployserver.core.models import AwsAccount
from releases.steps import (
    StepType,
    StepValidationError,
    add_error,
    is_expression,
    join,
)
from releases.substitution import substitute_tree
from releases.variables import PackageInfo, package_variables

from .fargate import fargate_pair_errors
from .schema import FARGATE_LOG_DRIVERS, SCHEMA


def _literal(value: Any) -> bool:
    return value not in (None, "") and not is_expression(value)


@dataclass(frozen=True)
class EcsPlan:
    """What one ECS step will do once substituted: the two requests and how to follow them."""

    aws_account: str
    region: str
    register_task_definition: dict
    update_service: dict
    wait_mode: str
    timeout_minutes: int
    rollback_on_failure: bool


class EcsDeployStep(StepType):
    type = "aws-ecs-deploy"
    label = "Deploy to Amazon ECS"
    schema = SCHEMA

    def check(self, properties, *, packages, path, errors, resolved):
        check_task_definition(properties, path, errors)

    # Requests ---------------------------------------------------------------------------

    def build_plan(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, PackageInfo]
    ) -> EcsPlan:
        """Substitute, validate the result as AWS would, and build the requests.

        Raises ``SubstitutionError`` (unresolved names, cycles) or ``StepValidationError``.
        """
        merged = {**values, **package_variables(packages)}
        substituted = substitute_tree(properties, merged)
        p, errors = self.clean(substituted, packages=[], resolved=True)
        if errors:
            raise StepValidationError(errors)
        register = register_request(p)
        deployment_configuration = {
            "minimumHealthyPercent": p["minimum_healthy_percent"],
            "maximumPercent": p["maximum_percent"],
            "deploymentCircuitBreaker": {
                "enable": p["circuit_breaker"],
                "rollback": p["circuit_breaker"] and p["circuit_breaker_rollback"],
            },
        }
        update = {
            "cluster": p["cluster"],
            "service": p["service"],
            # The family alone means its newest ACTIVE revision; the engine passes the exact
            # ARN that RegisterTaskDefinition returned.
            "taskDefinition": p["task_family"],
            "deploymentConfiguration": deployment_configuration,
            "forceNewDeployment": p["force_new_deployment"],
        }
        if p["desired_count"] is not None:
            update["desiredCount"] = p["desired_count"]
        return EcsPlan(
            aws_account=p["aws_account"],
            region=p["region"],
            register_task_definition=register,
            update_service=update,
            wait_mode=p["wait_mode"],
            timeout_minutes=p["timeout_minutes"],
            rollback_on_failure=p["rollback_on_failure"],
        )

    def build_requests(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, PackageInfo]
    ) -> tuple[dict, dict]:
        """``(register_task_definition_kwargs, update_service_kwargs)`` for boto3."""
        plan = self.build_plan(properties, values, packages)
        return plan.register_task_definition, plan.update_service

    def preview(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, PackageInfo]
    ) -> dict[str, Any]:
        plan = self.build_plan(properties, values, packages)
        return {
            "aws_account": plan.aws_account,
            "region": plan.region,
            "requests": {
                "RegisterTaskDefinition": plan.register_task_definition,
                "UpdateService": plan.update_service,
            },
            "wait_mode": plan.wait_mode,
            "timeout_minutes": plan.timeout_minutes,
            "rollback_on_failure": plan.rollback_on_failure,
        }


def register_request(p: dict) -> dict:
    """The ``RegisterTaskDefinition`` request of cleaned, substituted properties."""
    register = {
        "family": p["task_family"],
        "networkMode": p["network_mode"],
        "requiresCompatibilities": [p["requires_compatibilities"]],
        "containerDefinitions": [_container(c) for c in p["containers"]],
    }
    if p["task_cpu"] is not None:
        register["cpu"] = str(p["task_cpu"])
    if p["task_memory"] is not None:
        register["memory"] = str(p["task_memory"])
    if p["task_role_arn"]:
        register["taskRoleArn"] = p["task_role_arn"]
    if p["execution_role_arn"]:
        register["executionRoleArn"] = p["execution_role_arn"]
    return register


def check_task_definition(properties: dict, path: str, errors) -> None:
    """The rules AWS applies to a task definition (moto applies none), on cleaned properties;
    values still holding expressions are skipped. Shared by the deploy and run-task steps."""
    p = properties
    fargate = p["requires_compatibilities"] == "FARGATE"
    if fargate and _literal(p["network_mode"]) and p["network_mode"] != "awsvpc":
        add_error(
            errors,
            join(path, "network_mode"),
            f"FARGATE tasks need the awsvpc network mode (got {p['network_mode']}).",
        )
    cpu, memory = p["task_cpu"], p["task_memory"]
    if fargate and not is_expression(cpu) and not is_expression(memory):
        # The Fargate table says more than a range check: it replaces that message.
        for name, message in fargate_pair_errors(cpu, memory).items():
            if p[name] is None and join(path, name) in errors:
                continue  # not a number at all: that message says it better
            errors[join(path, name)] = [message]
    if _literal(p["aws_account"]) and not AwsAccount.objects.filter(slug=p["aws_account"]).exists():
        add_error(
            errors,
            join(path, "aws_account"),
            f"No AWS account '{p['aws_account']}'; give an account slug.",
        )
    needs_execution_role = False
    names: set[str] = set()
    for index, c in enumerate(p["containers"]):
        where = join(join(path, "containers"), index)
        if _literal(c["name"]):
            if c["name"] in names:
                add_error(
                    errors,
                    join(where, "name"),
                    f"Another container is already called {c['name']}.",
                )
            names.add(c["name"])
        _check_container(c, p, where, errors, fargate)
        if c["secrets"]:
            needs_execution_role = True
        if c["log_configuration"]["log_driver"] == "awslogs" and fargate:
            needs_execution_role = True
    if needs_execution_role and p["execution_role_arn"] in ("", None):
        add_error(
            errors,
            join(path, "execution_role_arn"),
            "Containers with secrets, or FARGATE containers logging with awslogs, "
            "need an execution role.",
        )


def _check_container(c, p, where, errors, fargate) -> None:
    memory, reservation, task_memory = c["memory"], c["memory_reservation"], p["task_memory"]
    if memory is None and reservation is None and task_memory is None:
        add_error(
            errors,
            join(where, "memory"),
            "Give the container a memory or a memory reservation (or the task a memory).",
        )
    if _literal(memory) and _literal(reservation) and reservation > memory:
        add_error(
            errors,
            join(where, "memory_reservation"),
            f"The reservation ({reservation}) exceeds the memory limit ({memory}).",
        )
    if _literal(memory) and _literal(task_memory) and memory > task_memory:
        add_error(
            errors,
            join(where, "memory"),
            f"The container memory ({memory}) exceeds the task memory ({task_memory}).",
        )
    seen_ports: set[tuple] = set()
    for i, pm in enumerate(c["port_mappings"]):
        at = join(join(where, "port_mappings"), i)
        port, host = pm["container_port"], pm["host_port"]
        if p["network_mode"] == "awsvpc" and _literal(port) and _literal(host) and host != port:
            add_error(
                errors,
                join(at, "host_port"),
                "With awsvpc the host port must be empty or equal the container port.",
            )
        key = (port, pm["protocol"])
        if _literal(port) and key in seen_ports:
            add_error(
                errors,
                join(at, "container_port"),
                f"Port {port}/{pm['protocol']} is mapped twice.",
            )
        seen_ports.add(key)
    log = c["log_configuration"]
    driver = log["log_driver"]
    if fargate and _literal(driver) and driver not in FARGATE_LOG_DRIVERS:
        add_error(
            errors,
            join(where, "log_configuration.log_driver"),
            f"FARGATE supports the {', '.join(FARGATE_LOG_DRIVERS)} log drivers.",
        )
    if driver == "awslogs":
        options = {o["name"] for o in log["options"]}
        needed = ["awslogs-group", "awslogs-region"] + (
            ["awslogs-stream-prefix"] if fargate else []
        )
        missing = [n for n in needed if n not in options]
        if missing:
            add_error(
                errors,
                join(where, "log_configuration.options"),
                f"The awslogs driver needs the option(s) {', '.join(missing)}.",
            )


def _container(c: dict) -> dict:
    out: dict[str, Any] = {"name": c["name"], "image": c["image"], "essential": c["essential"]}
    for key, aws_key in (
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("memory_reservation", "memoryReservation"),
    ):
        if c[key] is not None:
            out[aws_key] = c[key]
    if c["port_mappings"]:
        out["portMappings"] = [
            {"containerPort": pm["container_port"], "protocol": pm["protocol"]}
            | ({"hostPort": pm["host_port"]} if pm["host_port"] is not None else {})
            for pm in c["port_mappings"]
        ]
    if c["environment"]:
        out["environment"] = [{"name": e["name"], "value": e["value"]} for e in c["environment"]]
    if c["secrets"]:
        out["secrets"] = [{"name": s["name"], "valueFrom": s["value_from"]} for s in c["secrets"]]
    log = c["log_configuration"]
    if log["log_driver"]:
        out["logConfiguration"] = {
            "logDriver": log["log_driver"],
            "options": {o["name"]: o["value"] for o in log["options"]},
        }
    return out


ECS_DEPLOY = EcsDeployStep()
