"""Waiting on deployments run by a worker, and reading what the sandbox's ECS holds."""

import time

from django.conf import settings
from django.utils import timezone

from deployments.engine import deployment_execute
from deployments.models import Deployment
from deployments.rounds import deployments_check


def run_until_finished(deployment_id: int, clock=None, timeout: float = 60.0) -> str:
    """Start a deployment in this process, then run its check rounds here until it ends, each
    finding it due at once. With ``clock`` (the runner's wall clock, faked) each round is a poll
    interval later on it; without, rounds are 50 ms apart (the sandbox's rollouts take real
    time). Returns the final state."""
    deployment_execute(deployment_id)
    return check_until_finished(deployment_id, clock, timeout)


def check_until_finished(deployment_id: int, clock=None, timeout: float = 60.0) -> str:
    """The check rounds of ``run_until_finished``, for a deployment already started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = Deployment.objects.filter(
            pk=deployment_id, state=Deployment.State.EXECUTING, phase=Deployment.Phase.WAITING
        )
        if not waiting.update(next_check_at=timezone.now()):
            break
        if clock is not None:
            clock.sleep(settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS)
        else:
            time.sleep(0.05)
        deployments_check()
    return Deployment.objects.values_list("state", flat=True).get(pk=deployment_id)


def wait_for(
    deployment_id: int, states=Deployment.FINISHED, timeout: float = 60.0, phase: str | None = None
) -> Deployment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment = Deployment.objects.get(pk=deployment_id)
        if deployment.state in states and phase in (None, deployment.phase):
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
