"""Celery tasks of the deployments app, by their stable names (beat and ``send_task`` use them):

- ``deployments.run``, ``deployments.check``, ``deployments.reap`` and ``deployments.dispatch``
  (``run``): the engine's start of a deployment, its check rounds, its reaper and dispatcher;
- ``deployments.retention`` (``retention``): the periodic release retention;
- ``deployments.drift`` (``drift``): the periodic drift round;
- ``deployments.expire-approvals`` (``approvals``): deployments nobody approved in time end.

Tasks carry ids, never objects. Celery's autodiscovery imports this package.
"""

from .approvals import approvals_expire
from .drift import drift_round
from .retention import releases_retention
from .run import deployment_dispatch, deployment_reap, deployment_run, deployments_check

__all__ = [
    "approvals_expire",
    "deployment_dispatch",
    "deployment_reap",
    "deployment_run",
    "deployments_check",
    "drift_round",
    "releases_retention",
]
