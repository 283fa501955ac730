"""Which function runs each step type during a deployment.

``releases.steps.REGISTRY`` knows what a step type accepts; this registry knows how the engine
runs it. Both are filled together, beside each step type (``deployments.aws_ecs.register``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import DeploymentRun

Runner = Callable[["DeploymentRun", dict[str, Any]], None]

RUNNERS: dict[str, Runner] = {}


def runner_register(step_type: str, runner: Runner) -> None:
    RUNNERS[step_type] = runner


def runner_for(step_type: str | None) -> Runner | None:
    return RUNNERS.get(step_type or "")
