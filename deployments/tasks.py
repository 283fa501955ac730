"""Celery tasks of the deployments app. Tasks carry ids, never objects."""

from celery import shared_task


@shared_task(name="deployments.run", acks_late=True, ignore_result=True)
def deployment_run(deployment_id: int) -> None:
    """Run one queued deployment (see ``deployments.engine``)."""
    from .engine import deployment_execute

    deployment_execute(deployment_id)
