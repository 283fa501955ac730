"""The periodic drift round (scheduled by beat every ``DRIFT_CHECK_SECONDS``)."""

from celery import shared_task

from ..drift import drift_check


@shared_task(name="deployments.drift", ignore_result=True)
def drift_round() -> dict:
    """Compare every ECS service with what its last successful deployment set there."""
    return drift_check().figures()
