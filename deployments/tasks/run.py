"""The engine's tasks: run one queued deployment, and the reaper (scheduled by beat)."""

from celery import shared_task

from .. import engine


@shared_task(name="deployments.run", bind=True, acks_late=True, ignore_result=True)
def deployment_run(self, deployment_id: int) -> None:
    """Run one queued deployment (see ``deployments.engine``); any other delivery exits."""
    engine.deployment_execute(deployment_id, worker=self.request.hostname or "")


@shared_task(name="deployments.reap", ignore_result=True)
def deployment_reap() -> None:
    """Fail deployments whose worker vanished; re-enqueue queue heads nobody is running."""
    engine.deployment_reap()
