"""The periodic retention task (scheduled by beat, see ``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from ..retention import retention_apply


@shared_task(name="deployments.retention", ignore_result=True)
def releases_retention() -> int:
    """Delete the releases their lifecycle's retention no longer keeps."""
    return retention_apply()
