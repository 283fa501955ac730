"""Waiting on deployments run by a worker, and reading what the sandbox's ECS holds."""

import time

from deployments.models import Deployment


def wait_for(deployment_id: int, states=Deployment.FINISHED, timeout: float = 60.0) -> Deployment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment = Deployment.objects.get(pk=deployment_id)
        if deployment.state in states:
            return deployment
        time.sleep(0.1)
    lines = "\n".join(deployment.log_lines.order_by("seq").values_list("text", flat=True))
    raise AssertionError(
        f"deployment {deployment_id} is {deployment.state}, not {states}, after {timeout}s:\n"
        f"{lines}"
    )


def wait_for_line(deployment_id: int, text: str, timeout: float = 30.0) -> None:
    from deployments.models import LogLine

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if LogLine.objects.filter(deployment_id=deployment_id, text__contains=text).exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"no line containing {text!r} in deployment {deployment_id}")


def revisions(ecs, family: str) -> list[str]:
    return ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
