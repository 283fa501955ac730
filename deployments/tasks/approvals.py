"""The periodic expiry of deployments nobody approved (scheduled by beat)."""

from celery import shared_task

from ..services import deployments_expire_approvals


@shared_task(name="deployments.expire-approvals", ignore_result=True)
def approvals_expire() -> int:
    """Cancel deployments awaiting approval for longer than DEPLOYSERVER_APPROVAL_EXPIRY_DAYS."""
    return len(deployments_expire_approvals())
