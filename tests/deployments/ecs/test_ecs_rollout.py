"""The rollout watcher against exact ECS response sequences (botocore Stubber).

moto does not simulate rollouts (AWS_TESTING.md), so these sequences, modelled on the ECS API
reference, are the specification of how a rollout's progress and failures are read.
"""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from deployments.aws_ecs.aws import RolloutWatcher, stopped_tasks
from deployments.exceptions import RolloutCancelled
from deployserver.core.aws import AwsError

CLUSTER, SERVICE = "hello-color-dev", "hello-color-dev"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/hello-color-dev:4"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/hello-color-dev:5"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def deployment(
    td,
    status="PRIMARY",
    state="IN_PROGRESS",
    running=0,
    pending=2,
    desired=2,
    failed=0,
    reason=None,
    dep_id="ecs-svc/1111",
):
    d = {
        "id": dep_id,
        "status": status,
        "taskDefinition": td,
        "desiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": T0,
        "updatedAt": T0,
        "launchType": "FARGATE",
    }
    if state is not None:
        d["rolloutState"] = state
        d["rolloutStateReason"] = reason or f"ECS deployment {dep_id} in progress."
    return d


def described(deployments, events=(), td=NEW):
    return {
        "services": [
            {
                "serviceArn": SERVICE_ARN,
                "serviceName": SERVICE,
                "clusterArn": "arn:aws:ecs:x",
                "status": "ACTIVE",
                "taskDefinition": td,
                "desiredCount": 2,
                "runningCount": sum(d["runningCount"] for d in deployments),
                "pendingCount": sum(d["pendingCount"] for d in deployments),
                "deployments": deployments,
                "events": [{"id": i, "createdAt": T0, "message": m} for i, m in reversed(events)],
            }
        ],
        "failures": [],
    }


@pytest.fixture
def ecs():
    client = boto3.client(
        "ecs",
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def expect_describe(ecs, response):
    ecs.stubber.add_response(
        "describe_services", response, {"cluster": CLUSTER, "services": [SERVICE]}
    )


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def watcher(ecs, lines, **kwargs):
    clock = FakeClock()
    options = {"timeout": 600, "interval": 5, "sleep": clock.sleep, "clock": clock}
    options.update(kwargs)
    return RolloutWatcher(
        ecs=ecs,
        cluster=CLUSTER,
        service=SERVICE,
        task_definition=NEW,
        log=lambda level, text: lines.append((level, text)),
        **options,
    )


def test_rollout_that_completes_succeeds_and_logs_counts_and_new_events_once(ecs):
    old = deployment(
        OLD, status="ACTIVE", state="COMPLETED", running=2, pending=0, dep_id="ecs-svc/0"
    )
    expect_describe(ecs, described([deployment(NEW), old], events=[("e0", "old news")]))
    expect_describe(
        ecs,
        described(
            [deployment(NEW, running=1, pending=1), old],
            events=[("e0", "old news"), ("e1", "has started 2 tasks")],
        ),
    )
    expect_describe(
        ecs,
        described(
            [deployment(NEW, running=1, pending=1), old],
            events=[("e0", "old news"), ("e1", "has started 2 tasks")],
        ),
    )
    expect_describe(
        ecs,
        described(
            [deployment(NEW, state="COMPLETED", running=2, pending=0)],
            events=[
                ("e0", "old news"),
                ("e1", "has started 2 tasks"),
                ("e2", "has reached a steady state."),
            ],
        ),
    )
    lines = []
    progress = []
    result = watcher(
        ecs, lines, known_events={"e0"}, progress=lambda r, d: progress.append((r, d))
    ).watch()

    assert result.succeeded and (result.running, result.desired) == (2, 2)
    texts = [t for _, t in lines]
    assert texts.count("ECS: has started 2 tasks") == 1
    assert "ECS: has reached a steady state." in texts
    assert not any("old news" in t for t in texts)
    assert progress == [(0, 2), (1, 2), (2, 2)]  # only when something changed


def test_failed_rollout_reports_awss_reason_and_each_stopped_task_once(ecs):
    stopped_1 = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/aaa",
        "taskDefinitionArn": NEW,
        "lastStatus": "STOPPED",
        "stoppedReason": "Essential container in task exited",
        "containers": [{"name": "web", "exitCode": 1}],
    }
    stopped_old = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/old",
        "taskDefinitionArn": OLD,
        "lastStatus": "STOPPED",
        "stoppedReason": "Scaling activity initiated",
    }
    stopped_2 = {
        "taskArn": "arn:aws:ecs:us-east-1:1:task/c/bbb",
        "taskDefinitionArn": NEW,
        "lastStatus": "STOPPED",
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
    }
    expect_describe(ecs, described([deployment(NEW)]))
    expect_describe(
        ecs,
        described(
            [deployment(NEW, failed=1)],
            events=[("e1", "(service x) has stopped 1 running tasks: (task aaa).")],
        ),
    )
    # ListTasks is paginated: both pages are read.
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": [stopped_1["taskArn"]], "nextToken": "t2"},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": [stopped_old["taskArn"]]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "nextToken": "t2"},
    )
    ecs.stubber.add_response(
        "describe_tasks",
        {"tasks": [stopped_1, stopped_old], "failures": []},
        {"cluster": CLUSTER, "tasks": [stopped_1["taskArn"], stopped_old["taskArn"]]},
    )
    reason = "ECS deployment circuit breaker: tasks failed to start."
    expect_describe(
        ecs, described([deployment(NEW, state="FAILED", failed=2, pending=0, reason=reason)])
    )
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": [stopped_1["taskArn"], stopped_2["taskArn"]]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    ecs.stubber.add_response(
        "describe_tasks",
        {"tasks": [stopped_1, stopped_2], "failures": []},
        {"cluster": CLUSTER, "tasks": [stopped_1["taskArn"], stopped_2["taskArn"]]},
    )
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": [stopped_1["taskArn"], stopped_2["taskArn"]]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    ecs.stubber.add_response(
        "describe_tasks",
        {"tasks": [stopped_1, stopped_2], "failures": []},
        {"cluster": CLUSTER, "tasks": [stopped_1["taskArn"], stopped_2["taskArn"]]},
    )
    lines = []
    result = watcher(ecs, lines).watch()

    assert not result.succeeded
    assert reason in result.reason and "FAILED" in result.reason
    warnings = [t for level, t in lines if level == "warning"]
    assert warnings == [
        "Task aaa stopped: Essential container in task exited; web: exit code 1",
        "Task bbb stopped: CannotPullContainerError: "
        "pull image manifest has been retried 5 time(s)",
    ]


def test_circuit_breaker_rollback_is_a_failure_even_though_the_service_is_steady(ecs):
    expect_describe(
        ecs, described([deployment(NEW), deployment(OLD, status="ACTIVE", state="COMPLETED")])
    )
    rolled_back = deployment(OLD, state="COMPLETED", running=2, pending=0, dep_id="ecs-svc/2222")
    expect_describe(
        ecs,
        described(
            [rolled_back],
            td=OLD,
            events=[("e1", "(service x) rolling back to deployment ecs-svc/2222.")],
        ),
    )
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    lines = []
    result = watcher(ecs, lines).watch()

    assert not result.succeeded
    assert "rolled the service back to hello-color-dev:4" in result.reason


def test_placement_failure_event_fails_the_rollout(ecs):
    message = (
        "(service x) was unable to place a task because no container instance met all of its "
        "requirements."
    )
    expect_describe(ecs, described([deployment(NEW)]))
    expect_describe(ecs, described([deployment(NEW)], events=[("e1", message)]))
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    lines = []
    result = watcher(ecs, lines).watch()

    assert not result.succeeded and "cannot place" in result.reason
    assert ("warning", f"ECS: {message}") in lines


def test_rollout_that_never_finishes_times_out(ecs):
    for _ in range(4):
        expect_describe(ecs, described([deployment(NEW)]))
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    result = watcher(ecs, [], timeout=15, interval=5).watch()

    assert not result.succeeded
    assert "did not finish within 15 s" in result.reason


def test_without_rollout_state_one_deployment_at_desired_count_is_success(ecs):
    expect_describe(
        ecs,
        described(
            [
                deployment(NEW, state=None, running=1, pending=1),
                deployment(OLD, status="ACTIVE", state=None, running=1, pending=0),
            ]
        ),
    )
    expect_describe(ecs, described([deployment(NEW, state=None, running=2, pending=0)]))
    assert watcher(ecs, []).watch().succeeded


def test_missing_service_is_an_aws_error_naming_it(ecs):
    ecs.stubber.add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": SERVICE_ARN, "reason": "MISSING"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    with pytest.raises(AwsError, match="Service hello-color-dev was not found .*MISSING"):
        watcher(ecs, []).watch()


def test_cancel_stops_following_before_the_next_poll(ecs):
    expect_describe(ecs, described([deployment(NEW)]))
    asked = iter([False, True])
    with pytest.raises(RolloutCancelled):
        watcher(ecs, [], should_cancel=lambda: next(asked)).watch()


def test_stopped_tasks_are_described_in_batches_of_one_hundred(ecs):
    arns = [f"arn:aws:ecs:us-east-1:1:task/c/{i:03d}" for i in range(150)]
    ecs.stubber.add_response(
        "list_tasks",
        {"taskArns": arns},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    for chunk in (arns[:100], arns[100:]):
        ecs.stubber.add_response(
            "describe_tasks",
            {
                "tasks": [
                    {"taskArn": a, "taskDefinitionArn": NEW, "stoppedReason": "x"} for a in chunk
                ]
            },
            {"cluster": CLUSTER, "tasks": chunk},
        )
    assert len(stopped_tasks(ecs, CLUSTER, SERVICE, NEW)) == 150
