"""Who runs when: one deployment at a time per project × environment (in order), others in
parallel; cancel before and during a run; a second delivery never touches AWS; the reaper."""

import time

import pytest

from deployments import enqueue, upkeep
from deployments.engine import DeploymentRun, deployment_claim, deployment_execute
from deployments.models import Deployment, LogLine
from deployments.runners import RUNNERS, StepRunner
from deployments.services import deployment_cancel
from deployments.tasks import deployment_run
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from releases.releasing import release_create
from sandbox import seed

from .helpers import (
    check_until_finished,
    revisions,
    run_until_finished,
    wait_for,
    wait_for_line,
)

pytestmark = pytest.mark.django_db(transaction=True)


def queued(release, slug="dev") -> Deployment:
    """A queued row, without enqueueing it (a running worker must not pick it up)."""
    return Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug=slug)
    )


def ecs():
    return client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")


def test_a_later_deployment_waits_for_the_earlier_one_of_its_project_and_environment(release):
    second_release = release_create(project=release.project, user=None, packages={"web": "1.1.0"})
    first, second = queued(release), queued(second_release)
    other_environment = queued(second_release, "test")

    assert deployment_claim(second.pk) is None  # an earlier one is still queued
    assert deployment_claim(first.pk).state == Deployment.State.EXECUTING
    assert deployment_claim(second.pk) is None  # the earlier one is executing
    assert deployment_claim(other_environment.pk).state == Deployment.State.EXECUTING
    second.refresh_from_db()
    assert second.state == Deployment.State.QUEUED


def test_one_deployment_at_a_time_per_project_and_environment_in_order_others_in_parallel(
    celery_worker_process, release, fast_rollouts
):
    second_release = release_create(project=release.project, user=None, packages={"web": "1.1.0"})
    first, second = queued(release), queued(second_release)
    elsewhere = queued(release, "test")
    for deployment in (second, first, elsewhere):  # the later one is delivered first
        deployment_run.delay(deployment.pk)
    first, second, elsewhere = (wait_for(d.pk) for d in (first, second, elsewhere))

    assert {first.state, second.state, elsewhere.state} == {Deployment.State.SUCCESS}
    assert first.finished_at <= second.started_at  # serialised, in the order they were queued
    assert elsewhere.started_at < first.finished_at and first.started_at < elsewhere.finished_at
    service = ecs().describe_services(cluster="hello-color-dev", services=["hello-color-dev"])
    assert service["services"][0]["taskDefinition"] == second.outputs["task_definition_arn"]


def test_a_deployment_cancelled_while_queued_never_starts(release, admin_user):
    deployment = queued(release)
    deployment_cancel(deployment=deployment, user=admin_user)

    assert deployment_execute(deployment.pk) is None
    deployment.refresh_from_db()
    assert deployment.state == Deployment.State.CANCELLED and deployment.started_at is None
    assert len(revisions(ecs(), "hello-color-dev")) == 1  # the seed's own


def test_cancel_of_a_waiting_rollout_ends_it_at_once_and_leaves_the_service_rolling(
    celery_worker_process, release, admin_api, monkeypatch
):
    from sandbox import rollouts

    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 60)
    response = admin_api.post(
        "/api/deployments/", {"release": release.pk, "environment": "dev"}, format="json"
    )
    pk = response.json()["id"]
    wait_for_line(pk, "Following the rollout")
    wait_for(pk, states=[Deployment.State.EXECUTING], phase=Deployment.Phase.WAITING)
    asked = time.monotonic()
    assert admin_api.post(f"/api/deployments/{pk}/cancel/").status_code == 200

    deployment = wait_for(pk, timeout=15)
    took = time.monotonic() - asked
    assert deployment.state == Deployment.State.CANCELLED
    assert deployment.error == (
        "Cancelled by admin while waiting for the rollout. The service was left as it is: ECS "
        "goes on with the rollout (redeploy the previous release to go back)."
    )
    assert LogLine.objects.filter(deployment=deployment, text=deployment.error).exists()
    # Within one check interval of the default (3 s): the cancel makes its check due at once.
    assert took < 3, f"cancelled {took:.1f} s after it was asked"
    service = ecs().describe_services(cluster="hello-color-dev", services=["hello-color-dev"])
    assert service["services"][0]["taskDefinition"] == deployment.outputs["task_definition_arn"]


def test_a_second_delivery_exits_without_registering_another_task_definition(release):
    deployment = queued(release)
    assert run_until_finished(deployment.pk) == Deployment.State.SUCCESS
    lines = LogLine.objects.filter(deployment=deployment).count()

    assert deployment_execute(deployment.pk) is None
    assert len(revisions(ecs(), "hello-color-dev")) == 2
    assert LogLine.objects.filter(deployment=deployment).count() == lines


def test_a_run_that_finds_its_task_definition_recorded_reuses_it(release):
    existing = revisions(ecs(), "hello-color-dev")[0]
    deployment = deployment_claim(queued(release).pk)
    deployment.outputs = {"steps": {"Deploy web": {"task_definition_arn": existing}}}

    assert DeploymentRun(deployment).start() == Deployment.State.EXECUTING  # waits for the rollout
    assert check_until_finished(deployment.pk) == Deployment.State.SUCCESS
    assert revisions(ecs(), "hello-color-dev") == [existing]
    assert LogLine.objects.filter(
        deployment=deployment, text__startswith="Reusing task definition hello-color-dev:1"
    ).exists()


def test_reaper_fails_deployments_whose_worker_stopped_beating_and_starts_the_next(
    release, monkeypatch, settings
):
    from datetime import timedelta

    from django.utils import timezone

    enqueued = []
    monkeypatch.setattr(enqueue, "enqueue", enqueued.append)
    second_release = release_create(project=release.project, user=None, packages={"web": "1.1.0"})
    lost, waiting = queued(release), queued(second_release)
    alive = queued(release, "test")
    for deployment in (lost, alive):
        deployment_claim(deployment.pk, worker="celery@gone")
    Deployment.objects.filter(pk=lost.pk).update(
        heartbeat_at=timezone.now()
        - timedelta(seconds=settings.DEPLOYSERVER_WORKER_LOST_SECONDS + 1)
    )

    assert upkeep.deployment_reap() == [lost.pk]
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.state == Deployment.State.FAILED and lost.error.startswith("Worker lost")
    assert lost.opens_outage  # the insights count it as the start of an outage
    assert lost.log_lines.get().level == LogLine.Level.ERROR
    assert alive.state == Deployment.State.EXECUTING
    assert enqueued == [waiting.pk]


def test_an_unexpected_error_ends_the_deployment_failed_never_executing(release, monkeypatch):
    def broken(run, step):
        raise RuntimeError("disk full")

    monkeypatch.setitem(RUNNERS, "aws-ecs-deploy", StepRunner(start=broken))
    deployment = queued(release)

    assert run_until_finished(deployment.pk) == Deployment.State.FAILED
    deployment.refresh_from_db()
    assert deployment.error == "Internal error: RuntimeError: disk full"
    assert deployment.finished_at is not None
