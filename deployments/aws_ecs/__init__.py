"""Everything about the ``aws-ecs-deploy`` step, in one place.

- ``step``: the step type (its properties in ``schema``, Fargate's CPU/memory pairs in
  ``fargate``), which validates and builds the exact ECS requests; it never calls AWS;
- ``runner``: runs the step during a deployment (register, update) and checks its rollouts,
  many at once (follow, roll back);
- ``task_step`` and ``task_runner``: the ``aws-ecs-run-task`` step (one task run to its end, a
  database migration say), built and validated like the deploy step;
- ``aws``: the one module that calls ECS, and the rollout watcher.

``register`` puts the step type into ``releases.steps.REGISTRY`` and its runner beside it into
``deployments.runners`` (called from ``DeploymentsConfig.ready``).
"""

from releases.steps import REGISTRY

from ..runners import StepRunner, runner_register
from .runner import cancel_rollout, check_ecs_rollouts, run_ecs_step
from .step import ECS_DEPLOY
from .task_runner import cancel_task, check_tasks, run_task_step
from .task_step import ECS_RUN_TASK


def register() -> None:
    REGISTRY.register(ECS_DEPLOY)
    runner_register(
        ECS_DEPLOY.type,
        StepRunner(start=run_ecs_step, check=check_ecs_rollouts, cancel=cancel_rollout),
    )
    REGISTRY.register(ECS_RUN_TASK)
    runner_register(
        ECS_RUN_TASK.type, StepRunner(start=run_task_step, check=check_tasks, cancel=cancel_task)
    )
