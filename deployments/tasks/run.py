"""The engine's tasks: start one queued deployment, check rounds of waiting ones; the reaper and
the dispatcher (run by beat)."""

from celery import shared_task

from .. import engine, rounds, upkeep


@shared_task(name="deployments.run", bind=True, acks_late=True, ignore_result=True)
def deployment_run(self, deployment_id: int) -> None:
    """Run one queued deployment (see ``deployments.engine``); any other delivery exits."""
    engine.deployment_execute(deployment_id, worker=self.request.hostname or "")


@shared_task(name="deployments.check", bind=True, ignore_result=True)
def deployments_check(self) -> None:
    """Check every waiting deployment whose check is due (sent for that time, and by beat)."""
    rounds.deployments_check(worker=self.request.hostname or "")


@shared_task(name="deployments.reap", ignore_result=True)
def deployment_reap() -> None:
    """Fail deployments whose worker vanished, and start the next in line."""
    upkeep.deployment_reap()


@shared_task(name="deployments.dispatch", ignore_result=True)
def deployment_dispatch() -> None:
    """Send again the run of queue heads whose message never reached the queue or was lost."""
    upkeep.deployment_dispatch()
