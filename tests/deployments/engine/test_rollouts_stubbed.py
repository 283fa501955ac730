"""The engine against exact ECS response sequences (botocore Stubber), end to end from a queued
deployment to its recorded end: success, FAILED with AWS's reason, a circuit-breaker rollback
seen as failure, stopped tasks with their reasons, a timeout followed by our rollback, and AWS
errors (throttling after botocore's retries, access denied, missing cluster or service, invalid
task definition) ending ``failed`` with AWS's message. moto is only the seed's registry here."""

import boto3
import pytest
from botocore.stub import ANY, Stubber

from deployments.aws_ecs import runner
from deployments.models import Deployment
from releases.models import Environment
from tests.deployments.ecs.test_ecs_rollout import (
    CLUSTER,
    NEW,
    OLD,
    SERVICE,
    SERVICE_ARN,
    FakeClock,
    described,
)
from tests.deployments.ecs.test_ecs_rollout import deployment as ecs_deployment

from .helpers import run_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ecs(monkeypatch, settings, fast_rollouts):
    client = boto3.client(
        "ecs",
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )
    clock = FakeClock()
    monkeypatch.setattr(runner, "ecs_client", lambda account, service, region: client)
    monkeypatch.setattr(runner, "clock", clock)
    settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS = 20
    with Stubber(client) as stubber:
        client.stubber = stubber
        client.clock = clock
        yield client
        stubber.assert_no_pending_responses()


def queued(release, **properties) -> Deployment:
    """A queued Dev deployment of ``release`` with the step's properties overridden."""
    steps = release.process_snapshot
    steps[0]["properties"].update(properties)
    release.save(update_fields=["process_snapshot"])
    return Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )


def describe(ecs, response):
    ecs.stubber.add_response(
        "describe_services", response, {"cluster": CLUSTER, "services": [SERVICE]}
    )


def runs_old(ecs):
    """The task definition the service runs now (read to log what the deployment changes)."""
    ecs.stubber.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": OLD,
                "family": SERVICE,
                "cpu": "256",
                "memory": "512",
                "networkMode": "awsvpc",
                "containerDefinitions": [{"name": "web", "image": "hello-color:1.0.0"}],
            }
        },
        {"taskDefinition": OLD},
    )


def before_update(ecs):
    """What runs now, the registration of NEW and the update that points the service at it."""
    old = ecs_deployment(OLD, state="COMPLETED", running=2, pending=0, dep_id="ecs-svc/0")
    describe(ecs, described([old], events=[("e0", "old news")], td=OLD))
    runs_old(ecs)
    ecs.stubber.add_response(
        "register_task_definition",
        {"taskDefinition": {"taskDefinitionArn": NEW, "family": SERVICE, "revision": 5}},
        {
            "family": SERVICE,
            "cpu": "256",
            "memory": "512",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "executionRoleArn": ANY,
            "containerDefinitions": ANY,
        },
    )
    ecs.stubber.add_response(
        "update_service",
        {"service": {"serviceArn": SERVICE_ARN, "taskDefinition": NEW}},
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "taskDefinition": NEW,
            "desiredCount": 2,
            "forceNewDeployment": True,
            "deploymentConfiguration": {
                "minimumHealthyPercent": 100,
                "maximumPercent": 200,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
        },
    )


def no_stopped_tasks(ecs):
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )


def rolled_back_to_old(ecs, *, update: bool):
    """Our rollback: the service goes back to OLD (unless ECS already did) and settles there."""
    if update:
        ecs.stubber.add_response(
            "update_service",
            {"service": {"serviceArn": SERVICE_ARN, "taskDefinition": OLD}},
            {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": OLD},
        )
    back = ecs_deployment(OLD, state="COMPLETED", running=2, pending=0, dep_id="ecs-svc/9")
    describe(ecs, described([back], td=OLD))


def texts(deployment, level=None):
    lines = deployment.log_lines.order_by("seq")
    if level:
        lines = lines.filter(level=level)
    return list(lines.values_list("text", flat=True))


def test_rollout_that_completes_ends_success_with_outputs_and_progress(ecs, release):
    d = queued(release)
    before_update(ecs)
    describe(
        ecs,
        described(
            [
                ecs_deployment(NEW, running=1, pending=1),
                ecs_deployment(OLD, status="ACTIVE", state="COMPLETED", running=2, pending=0),
            ],
            events=[("e0", "old news"), ("e1", "has started 2 tasks")],
        ),
    )
    describe(
        ecs,
        described(
            [ecs_deployment(NEW, state="COMPLETED", running=2, pending=0)],
            events=[("e0", "old news"), ("e1", "has started 2 tasks"), ("e2", "steady state")],
        ),
    )
    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.SUCCESS
    d.refresh_from_db()
    assert d.outputs["task_definition_arn"] == NEW
    assert d.outputs["previous_task_definition_arn"] == OLD
    assert d.outputs["service_arn"] == SERVICE_ARN
    assert (d.progress_running, d.progress_desired) == (2, 2)
    log = texts(d)
    assert "ECS: has started 2 tasks" in log and "ECS: steady state" in log
    assert not any("old news" in t for t in log)
    assert d.started_at <= d.finished_at and d.error == ""
    # Its end keeps the insights' figures: the release's first success in Dev has a lead time.
    assert d.lead_seconds == pytest.approx((d.finished_at - release.created_at).total_seconds())


def test_failed_rollout_ends_failed_with_awss_reason_and_restores_what_ran_before(ecs, release):
    d = queued(release)
    before_update(ecs)
    reason = "ECS deployment circuit breaker: tasks failed to start."
    describe(ecs, described([ecs_deployment(NEW, state="FAILED", reason=reason, pending=0)]))
    no_stopped_tasks(ecs)
    rolled_back_to_old(ecs, update=True)

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert f"ECS reports the rollout FAILED: {reason}" in d.error
    assert d.error.endswith("Rolled back to hello-color-dev:4.")
    assert "Rolled back: service hello-color-dev runs hello-color-dev:4 again." in texts(d)
    assert d.opens_outage and d.recovery_seconds is None  # an outage, not yet recovered


def test_circuit_breaker_rollback_is_a_failure_and_is_not_rolled_back_twice(ecs, release):
    d = queued(release)
    before_update(ecs)
    describe(
        ecs,
        described(
            [
                ecs_deployment(NEW),
                ecs_deployment(OLD, status="ACTIVE", state="COMPLETED", running=2, pending=0),
            ]
        ),
    )
    back = ecs_deployment(OLD, state="COMPLETED", running=2, pending=0, dep_id="ecs-svc/2")
    describe(ecs, described([back], td=OLD, events=[("e1", "rolling back to ecs-svc/2.")]))
    no_stopped_tasks(ecs)
    rolled_back_to_old(ecs, update=False)  # our rollback finds ECS already went back

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert "rolled the service back to hello-color-dev:4" in d.error
    assert "ECS already rolled the service back to hello-color-dev:4." in texts(d)


def test_stopped_tasks_of_the_new_revision_are_logged_with_their_reasons(ecs, release):
    d = queued(release, rollback_on_failure=False)
    before_update(ecs)
    aaa = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/aaa",
        "taskDefinitionArn": NEW,
        "stoppedReason": "Essential container in task exited",
        "containers": [{"name": "web", "exitCode": 1}],
    }
    bbb = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/bbb",
        "taskDefinitionArn": NEW,
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried",
    }
    old_task = {**bbb, "taskArn": "arn:aws:ecs:us-east-1:1:task/c/old", "taskDefinitionArn": OLD}
    describe(
        ecs,
        described([ecs_deployment(NEW, failed=1)], events=[("e1", "has stopped 1 running tasks")]),
    )

    def stopped(*tasks):
        arns = [t["taskArn"] for t in tasks]
        ecs.stubber.add_response(
            "list_tasks",
            {"taskArns": arns},
            {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
        )
        ecs.stubber.add_response(
            "describe_tasks", {"tasks": list(tasks)}, {"cluster": CLUSTER, "tasks": arns}
        )

    stopped(aaa, old_task)
    describe(ecs, described([ecs_deployment(NEW, state="FAILED", failed=2, pending=0)]))
    stopped(aaa, bbb, old_task)
    stopped(aaa, bbb, old_task)

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert "ECS: has stopped 1 running tasks" in texts(d)
    assert texts(d, "warning") == [
        "Task aaa stopped: Essential container in task exited; web: exit code 1",
        "Task bbb stopped: CannotPullContainerError: pull image manifest has been retried",
    ]


def test_rollout_that_times_out_fails_and_rolls_back(ecs, release):
    d = queued(release, timeout_minutes=1)
    before_update(ecs)
    for _ in range(3):  # checks 20, 40 and 60 s after the update
        describe(ecs, described([ecs_deployment(NEW)]))
    no_stopped_tasks(ecs)
    rolled_back_to_old(ecs, update=True)

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert "did not finish within 60 s" in d.error
    assert d.error.endswith("Rolled back to hello-color-dev:4.")


def test_dont_wait_mode_ends_after_the_update(ecs, release):
    d = queued(release, wait_mode="none")
    before_update(ecs)
    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.SUCCESS
    assert "Not waiting for the rollout (wait mode: don't wait)." in texts(
        Deployment.objects.get(pk=d.pk)
    )


@pytest.mark.parametrize(
    ("operation", "code", "status", "message"),
    [
        (
            "describe_services",
            "AccessDeniedException",
            400,
            "User: arn:aws:iam::1:user/ci is not authorized to perform: ecs:DescribeServices",
        ),
        ("describe_services", "ClusterNotFoundException", 400, "Cluster not found."),
        ("register_task_definition", "ClientException", 400, "Invalid 'cpu' setting for task."),
        ("register_task_definition", "ThrottlingException", 400, "Rate exceeded"),
    ],
)
def test_aws_errors_end_the_deployment_failed_with_awss_message(
    ecs, release, operation, code, status, message
):
    d = queued(release)
    if operation == "register_task_definition":
        describe(ecs, described([ecs_deployment(OLD, state="COMPLETED")], td=OLD))
        runs_old(ecs)
    ecs.stubber.add_client_error(
        operation, service_error_code=code, service_message=message, http_status_code=status
    )
    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert code in d.error and message in d.error
    assert texts(d, "error") == [d.error]


def test_missing_service_ends_failed_naming_it(ecs, release):
    d = queued(release)
    ecs.stubber.add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": SERVICE_ARN, "reason": "MISSING"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert d.error == "Service hello-color-dev was not found in cluster hello-color-dev (MISSING)."


def test_a_check_throttled_beyond_botocores_retries_is_tried_again_not_failed(ecs, release):
    d = queued(release)
    before_update(ecs)
    ecs.stubber.add_client_error(
        "describe_services",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    describe(ecs, described([ecs_deployment(NEW, state="COMPLETED", running=2, pending=0)]))

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.SUCCESS
    assert texts(Deployment.objects.get(pk=d.pk), "warning") == [
        "Could not check the rollout (DescribeServices: ThrottlingException: Rate exceeded); "
        "trying again at the next check."
    ]


def test_a_service_that_cannot_be_read_until_the_timeout_fails_saying_why(ecs, release):
    d = queued(release, timeout_minutes=1, rollback_on_failure=False)
    before_update(ecs)
    for _ in range(3):  # 20, 40 and 60 s after the update: the deadline
        ecs.stubber.add_client_error(
            "describe_services",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: ecs:DescribeServices",
            http_status_code=400,
        )

    assert run_until_finished(d.pk, ecs.clock) == Deployment.State.FAILED
    d.refresh_from_db()
    assert d.error == (
        "The rollout could not be followed before its timeout: DescribeServices: "
        "AccessDeniedException: not authorized to perform: ecs:DescribeServices"
    )
