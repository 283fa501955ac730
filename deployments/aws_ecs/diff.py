"""What deploying a release to an environment would change on its ECS services, and the same
summary at the top of a deployment's ECS step.

Both sides are flattened to the same paths (``containers.web.image``,
``containers.web.environment.OCTO_COLOR``, ``service.desired_count`` …): *current* from what
the service runs (``DescribeServices`` + ``DescribeTaskDefinition``), *next* from the requests
the step would send (``EcsDeployStep.build_plan``, the code the engine runs). A value holding a
sensitive variable — in either side — is shown as ``••••``; whether it changed is still said.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from deployserver.core.aws import AwsError

from .aws import call, describe_service, short_arn

MASK = "••••"
# Reads of the service and its task definition are kept this long, in this process only (the
# task definition may hold secrets in clear: never in a shared cache).
CACHE_SECONDS = 10.0
_cache: dict[tuple, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def task_definition_fields(td: dict) -> dict[str, str]:
    """A task definition (AWS's description or a RegisterTaskDefinition request), flattened."""
    out = {
        "task.cpu": _text(td.get("cpu")),
        "task.memory": _text(td.get("memory")),
        "task.network_mode": _text(td.get("networkMode")),
        "task.task_role_arn": _text(td.get("taskRoleArn")),
        "task.execution_role_arn": _text(td.get("executionRoleArn")),
    }
    for c in td.get("containerDefinitions") or []:
        at = f"containers.{c.get('name')}"
        out[f"{at}.image"] = _text(c.get("image"))
        out[f"{at}.essential"] = _text(c.get("essential", True))
        for key, aws in (
            ("cpu", "cpu"),
            ("memory", "memory"),
            ("memory_reservation", "memoryReservation"),
        ):
            out[f"{at}.{key}"] = _text(c.get(aws) or None)
        ports = sorted(
            f"{p.get('containerPort')}/{p.get('protocol', 'tcp')}"
            + (
                f" (host {p['hostPort']})"
                if p.get("hostPort") not in (None, p.get("containerPort"))
                else ""
            )
            for p in c.get("portMappings") or []
        )
        out[f"{at}.ports"] = ", ".join(ports)
        for e in c.get("environment") or []:
            out[f"{at}.environment.{e.get('name')}"] = _text(e.get("value"))
        for s in c.get("secrets") or []:
            out[f"{at}.secrets.{s.get('name')}"] = _text(s.get("valueFrom"))
        log = c.get("logConfiguration") or {}
        out[f"{at}.log_driver"] = _text(log.get("logDriver"))
        for name, value in (log.get("options") or {}).items():
            out[f"{at}.log_options.{name}"] = _text(value)
    return {k: v for k, v in out.items() if v != ""}


def service_fields(desired: Any, configuration: dict) -> dict[str, str]:
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    circuit = "off"
    if breaker.get("enable"):
        circuit = "on, with rollback" if breaker.get("rollback") else "on"
    return {
        "service.desired_count": _text(desired),
        "service.minimum_healthy_percent": _text(configuration.get("minimumHealthyPercent")),
        "service.maximum_percent": _text(configuration.get("maximumPercent")),
        "service.circuit_breaker": circuit,
    }


def next_fields(register: dict, update: dict, current: dict[str, str] | None) -> dict[str, str]:
    """What the step would set. Without ``desiredCount`` in the update the count stays."""
    desired = update.get("desiredCount")
    if desired is None and current is not None:
        desired = current.get("service.desired_count")
    return {
        **task_definition_fields(register),
        **service_fields(desired, update.get("deploymentConfiguration") or {}),
    }


def _cached(key: tuple, read):
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = read()
    with _cache_lock:
        _cache[key] = (now, value)
        for stale in [k for k, (t, _) in _cache.items() if now - t >= CACHE_SECONDS]:
            del _cache[stale]
    return value


def current_fields(
    ecs, cluster: str, service: str, *, cache_key: tuple = ()
) -> tuple[dict | None, str]:
    """``(fields, task definition ARN)`` of what the service runs; ``(None, "")`` when the
    service does not exist. Other AWS errors raise ``AwsError``."""

    def read():
        try:
            found = describe_service(ecs, cluster, service)
        except AwsError as exc:
            if exc.code in (
                "ServiceNotFoundException",
                "ServiceNotActive",
                "ClusterNotFoundException",
            ):
                return None, ""
            raise
        arn = found.get("taskDefinition", "")
        td = call(ecs.describe_task_definition, taskDefinition=arn)["taskDefinition"] if arn else {}
        fields = {
            **task_definition_fields(td),
            **service_fields(found.get("desiredCount"), found.get("deploymentConfiguration") or {}),
        }
        return fields, arn

    if not cache_key:
        return read()
    return _cached((*cache_key, cluster, service), read)


def _masked(value: str, secrets: list[str]) -> bool:
    return any(s and s in value for s in secrets)


def sensitive_paths(fields: dict | None, secrets: list[str]) -> set[str]:
    """The paths whose value holds a secret: on the other side, that path is masked too (what
    runs now may hold an older secret this release does not know)."""
    return {k for k, v in (fields or {}).items() if _masked(v, secrets)}


def changes_between(current: dict | None, nxt: dict, secrets: list[str]) -> list[dict]:
    """``[{"path", "from", "to"[, "sensitive"]}]`` for every field that differs."""
    before = current or {}
    hidden = sensitive_paths(nxt, secrets) | sensitive_paths(before, secrets)
    out = []
    for path in sorted(set(before) | set(nxt), key=_order):
        old, new = before.get(path, ""), nxt.get(path, "")
        if old == new:
            continue
        change = {"path": path, "from": old or None, "to": new or None}
        if path in hidden:
            change.update({"from": MASK if old else None, "to": MASK if new else None})
            change["sensitive"] = True
        out.append(change)
    return out


def masked_fields(fields: dict | None, secrets: list[str], hidden: set[str]) -> dict | None:
    if fields is None:
        return None
    return {k: (MASK if k in hidden or _masked(v, secrets) else v) for k, v in fields.items()}


def _order(path: str) -> tuple:
    head = path.split(".", 1)[0]
    rank = {"containers": 0, "task": 1, "service": 2}.get(head, 3)
    return (rank, path)


def summary(changes: list[dict]) -> str:
    """One line: "3 changes: image 1.0.1 → 1.1.0; OCTO_COLOR red → blue; desired count 2 → 3"."""
    if not changes:
        return "No changes: the service already runs what this release sets."
    count = len(changes)
    return f"{count} change{'s' if count != 1 else ''}: " + "; ".join(map(change_text, changes))


def change_text(change: dict) -> str:
    """One change in words: "OCTO_COLOR red → blue", "image 1.0.1 → 1.1.0", "DB_PASSWORD
    changed" (a sensitive one never says its values)."""
    label = _label(change["path"])
    old, new = change["from"] or "none", change["to"] or "none"
    if change["path"].endswith(".image"):
        old, new = _image_version(old), _image_version(new)
    if change.get("sensitive"):
        return f"{label} changed"
    return f"{label} {old} → {new}"


def _label(path: str) -> str:
    parts = path.split(".")
    if (
        parts[0] == "containers"
        and len(parts) >= 4
        and parts[2] in ("environment", "secrets", "log_options")
    ):
        return parts[3]
    if parts[0] == "containers":
        return parts[-1].replace("_", " ")
    return parts[-1].replace("_", " ")


def _image_version(image: str) -> str:
    """``repo@sha256:abcd…`` → ``sha256:abcd1234``; ``repo:1.1.0`` → ``1.1.0``."""
    if "@" in image:
        return image.split("@", 1)[1][:15]
    tail = image.rsplit("/", 1)[-1]
    return tail.split(":", 1)[1] if ":" in tail else short_arn(image)


def service_now(ecs, service: dict) -> dict[str, str]:
    """The fields of a described service and the task definition it runs (one more call)."""
    arn = service.get("taskDefinition", "")
    td = call(ecs.describe_task_definition, taskDefinition=arn)["taskDefinition"] if arn else {}
    return {
        **task_definition_fields(td),
        **service_fields(service.get("desiredCount"), service.get("deploymentConfiguration") or {}),
    }


def deployed_secrets(project_id: int, environment) -> list[str]:
    """The masked values of the release last deployed successfully to ``environment``: what
    runs now may hold them (a secret this release changed or dropped)."""
    from releases.releasing import release_variable_specs
    from releases.variables import secrets_to_mask, variables_resolve

    from ..models import Deployment

    last = (
        Deployment.objects.filter(
            project_id=project_id, environment=environment, state=Deployment.State.SUCCESS
        )
        .select_related("release")
        .order_by("-finished_at", "-pk")
        .first()
    )
    if last is None:
        return []
    specs = release_variable_specs(last.release)
    templates = [s.get("properties") or {} for s in last.release.process_snapshot or []]
    return secrets_to_mask(specs, variables_resolve(specs, environment.pk), templates)


def release_diff(release, environment) -> dict:
    """What deploying ``release`` to ``environment`` would change, per ECS deploy step.

    The top-level ``current``/``next``/``changes``/``summary`` are the first deploy step's;
    ``steps`` has them all. A problem (the step cannot be planned, AWS refused) is ``error``.
    """
    from deployserver.core.models import AwsAccount
    from releases.releasing import release_variable_specs
    from releases.steps import StepValidationError
    from releases.substitution import SubstitutionError
    from releases.variables import secrets_to_mask, variables_resolve

    from .runner import ecs_for, plan_values, step_packages
    from .step import ECS_DEPLOY

    specs = release_variable_specs(release)
    resolved = variables_resolve(specs, environment.pk)
    before = deployed_secrets(release.project_id, environment)
    steps = []
    for step in release.process_snapshot or []:
        if step.get("type") != ECS_DEPLOY.type:
            continue
        properties = step.get("properties") or {}
        item: dict[str, Any] = {"step": step.get("name", ""), "current": None, "next": None,
                                "changes": None, "summary": "", "error": None}  # fmt: skip
        packages = step_packages(release, step, pin_digest=release.project.pin_digest)
        secrets = secrets_to_mask(specs, resolved, [properties]) + before
        try:
            values = plan_values(release, environment, specs, packages, deployment_id="")
            plan = ECS_DEPLOY.build_plan(properties, values, packages)
        except (SubstitutionError, StepValidationError) as exc:
            item["error"] = f"This release cannot be deployed to {environment.name}: {exc}"
            steps.append(item)
            continue
        cluster, service = plan.update_service["cluster"], plan.update_service["service"]
        item.update(cluster=cluster, service=service)
        account = AwsAccount.objects.filter(slug=plan.aws_account).first()
        if account is None:
            item["error"] = f"No AWS account '{plan.aws_account}'."
            steps.append(item)
            continue
        try:
            ecs = ecs_for(account, plan.region)
            current, arn = current_fields(
                ecs, cluster, service, cache_key=(account.pk, account.updated_at, plan.region)
            )
        except AwsError as exc:
            item["error"] = f"What the service runs could not be read: {exc}"
            steps.append(item)
            continue
        nxt = next_fields(plan.register_task_definition, plan.update_service, current)
        changes = changes_between(current, nxt, secrets)
        hidden = sensitive_paths(nxt, secrets) | sensitive_paths(current, secrets)
        item.update(
            current=masked_fields(current, secrets, hidden),
            next=masked_fields(nxt, secrets, hidden),
            changes=changes,
            summary=summary(changes),
            current_task_definition=arn or None,
        )
        if current is None:
            item["error"] = (
                f"Service {service} was not found in cluster {cluster}: a deployment would fail."
            )
        steps.append(item)
    first = steps[0] if steps else {"error": "The release's process has no ECS deploy step."}
    keys = ("current", "next", "changes", "summary", "error")
    return {"environment": environment.slug, **{k: first.get(k) for k in keys}, "steps": steps}
