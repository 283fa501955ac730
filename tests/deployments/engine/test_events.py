"""Every state change of a deployment leaves its event in the outbox, in the transaction that
makes it: queued, started and its end (run by the engine, failed by the reaper, cancelled while
queued)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import deployment_cancel, deployment_create
from deployments.upkeep import deployment_reap
from deployserver.core.models import Event
from releases.models import Environment

from .helpers import run_until_finished

pytestmark = [pytest.mark.django_db(transaction=True)]


def events(deployment_id: int) -> list[str]:
    return [
        e.name
        for e in Event.objects.order_by("pk")
        if (e.payload.get("deployment") or {}).get("id") == deployment_id
    ]


def test_a_deployment_run_by_the_engine_records_queued_started_and_succeeded(release, admin_user):
    deployment = deployment_create(
        release=release, environment=Environment.objects.get(slug="dev"), user=admin_user
    )
    assert run_until_finished(deployment.pk) == "success"
    assert events(deployment.pk) == [
        "deployment.queued",
        "deployment.started",
        "deployment.succeeded",
    ]
    last = Event.objects.filter(name="deployment.succeeded").get()
    assert last.payload["deployment"]["state"] == "success"
    assert last.payload["deployment"]["duration_seconds"] > 0
    assert last.project_id == release.project_id
    assert last.environment_id == deployment.environment_id


def test_the_reaper_and_a_cancel_while_queued_record_failed_and_cancelled(release, admin_user):
    dev, test = Environment.objects.get(slug="dev"), Environment.objects.get(slug="test")
    lost = deployment_create(release=release, environment=dev, user=admin_user)
    long_ago = timezone.now() - timedelta(hours=1)
    Deployment.objects.filter(pk=lost.pk).update(
        state="executing", phase="acting", started_at=long_ago, heartbeat_at=long_ago
    )
    assert deployment_reap() == [lost.pk]
    assert events(lost.pk) == ["deployment.queued", "deployment.failed"]
    failed = Event.objects.get(name="deployment.failed")
    assert failed.payload["deployment"]["error"].startswith("Worker lost")

    Deployment.objects.filter(pk=lost.pk).update(state="success")  # let Test open
    queued = deployment_create(release=release, environment=test, user=admin_user)
    deployment_cancel(deployment=queued, user=admin_user)
    assert events(queued.pk) == ["deployment.queued", "deployment.cancelled"]
