"""The rollout watcher against exact ECS response sequences (botocore Stubber).

moto does not simulate rollouts (AWS_TESTING.md), so these sequences, modelled on the ECS API
reference, are the specification of how a rollout's progress and failures are read. Each check
here is what a check round does for one rollout: describe, observe, store the watcher as JSON.
"""

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from deployments.aws_ecs.aws import RolloutWatcher, describe_services, stopped_tasks

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


class Follow:
    """Checks one rollout as the check rounds do, a poll interval apart on a fake clock: one
    DescribeServices, ``observe``, and the watcher stored as JSON and read back in between."""

    def __init__(self, ecs, lines, *, timeout=600, interval=5, progress=None, **kwargs):
        self.ecs, self.interval, self.clock = ecs, interval, FakeClock()
        self.log = lambda level, text: lines.append((level, text))
        self.progress = progress
        self.watcher = RolloutWatcher(
            cluster=CLUSTER,
            service=SERVICE,
            task_definition=NEW,
            log=self.log,
            deadline=self.clock() + timeout,
            timeout=timeout,
            progress=progress,
            **kwargs,
        )

    def watch(self):
        while True:
            found, calls = describe_services(self.ecs, CLUSTER, [SERVICE])
            assert calls == 1
            result = self.watcher.observe(self.ecs, found.get(SERVICE), self.clock())
            if result is not None:
                return result
            state = json.loads(json.dumps(self.watcher.state()))
            self.watcher = RolloutWatcher.from_state(state, log=self.log, progress=self.progress)
            self.clock.sleep(self.interval)


watcher = Follow


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
    result = watcher(ecs, [], timeout=15, interval=5).watch()  # checks at 0, 5, 10 and 15 s

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


def test_a_service_gone_ends_the_rollout_naming_it(ecs):
    ecs.stubber.add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": SERVICE_ARN, "reason": "MISSING"}]},
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    result = watcher(ecs, []).watch()
    assert not result.succeeded
    assert result.reason == "Service hello-color-dev was not found in cluster hello-color-dev."


def test_services_are_described_ten_at_a_time_and_found_by_name_or_arn(ecs):
    names = [f"svc-{n:02d}" for n in range(23)]
    arn = "arn:aws:ecs:us-east-1:1:service/{}/{}"
    asked = names[:22] + [arn.format(CLUSTER, names[22])]  # one asked for by its ARN
    for chunk in (asked[:10], asked[10:20], asked[20:]):
        services = [
            {"serviceName": n.rsplit("/", 1)[-1], "serviceArn": arn.format(CLUSTER, n[-6:])}
            for n in chunk
            if n != "svc-05"  # not found: absent from the answer
        ]
        ecs.stubber.add_response(
            "describe_services",
            {"services": services, "failures": []},
            {"cluster": CLUSTER, "services": chunk},
        )
    found, calls = describe_services(ecs, CLUSTER, asked + asked[:3])  # duplicates asked once
    assert calls == 3
    assert set(found) == set(asked) - {"svc-05"}


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
    tasks, calls = stopped_tasks(ecs, CLUSTER, SERVICE, NEW)
    assert len(tasks) == 150
    assert calls == {"ListTasks": 1, "DescribeTasks": 2}
