"""Queue a deployment's run once the transaction that queued or freed it has committed.

The task is sent by its name (``deployments.run``, see ``deployments.tasks``): the worker that
receives it runs the engine, and nothing that queues work needs to import the engine's task.
"""

from celery import current_app
from django.db import transaction

RUN_TASK = "deployments.run"


def enqueue(deployment_id: int) -> None:
    """Send the run task for ``deployment_id`` now (carrying the id, never the object)."""
    current_app.send_task(RUN_TASK, args=[deployment_id])


def enqueue_after_commit(deployment_id: int) -> None:
    """Send the run task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(deployment_id))
