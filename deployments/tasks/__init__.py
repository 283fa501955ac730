"""Celery tasks of the deployments app, by their stable names (beat and ``send_task`` use them):

- ``deployments.run``, ``deployments.reap`` and ``deployments.dispatch`` (``run``): the engine's
  run, its reaper and its dispatcher;
- ``deployments.retention`` (``retention``): the periodic release retention.

Tasks carry ids, never objects. Celery's autodiscovery imports this package.
"""

from .retention import releases_retention
from .run import deployment_dispatch, deployment_reap, deployment_run

__all__ = ["deployment_dispatch", "deployment_reap", "deployment_run", "releases_retention"]
