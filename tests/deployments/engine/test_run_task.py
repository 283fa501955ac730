"""The run-task step on the sandbox, in one process (check rounds run here): a migration task
that exits 0 lets the service step run; one that exits non-zero fails the deployment before the
service is touched; a timeout and a cancel stop the task (StopTask)."""

import time

import pytest
from django.utils import timezone

from deployments.engine import deployment_execute
from deployments.models import Deployment
from deployments.rounds import deployments_check
from deployments.services import deployment_cancel
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from releases.process import process_for, process_update
from releases.releasing import release_create
from sandbox import rollouts, seed

from .helpers import revisions, run_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def migrate_step(deploy: dict, subnet: str, group: str, **properties) -> dict:
    """A run-task step running the release's image as a migration, before ``deploy``."""
    package = dict(deploy["packages"][0], name="migrate")
    return {
        "name": "Migrate database",
        "type": "aws-ecs-run-task",
        "packages": [package],
        "properties": {
            "aws_account": "#{AwsAccount}",
            "region": deploy["properties"]["region"],
            "cluster": "#{ClusterName}",
            "task_family": "#{TaskName}-migrate",
            "requires_compatibilities": "FARGATE",
            "network_mode": "awsvpc",
            "task_cpu": 256,
            "task_memory": 512,
            "execution_role_arn": deploy["properties"]["execution_role_arn"],
            "containers": [{"name": "migrate", "image": "#{Package[migrate].Image}"}],
            "subnets": subnet,
            "security_groups": group,
            "command": "python manage.py migrate --noinput",
            "timeout_minutes": 5,
            **properties,
        },
    }


@pytest.fixture
def with_migration(sandbox, admin_user, monkeypatch):
    """Hello Color's process with a migration task before its service step; returns a function
    making a release whose migration image is ``version``."""
    monkeypatch.setattr(rollouts, "TASK_SECONDS", 0.5)
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    ec2 = client(account, "ec2")
    subnet = ec2.describe_subnets()["Subnets"][-1]["SubnetId"]
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["*"]}])
    group = next(g["GroupId"] for g in group["SecurityGroups"] if g["GroupName"] != "default")
    deploy = process_for(sandbox).steps[0]

    def make(version: str, **properties):
        steps = [migrate_step(deploy, subnet, group, **properties), deploy]
        process_update(project=sandbox, steps=steps, user=admin_user)
        return release_create(
            project=sandbox, user=admin_user, packages={"web": "1.0.1", "migrate": version}
        )

    return make


def queued(release) -> Deployment:
    return Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )


def texts(d: Deployment) -> list[str]:
    return list(d.log_lines.order_by("seq").values_list("text", flat=True))


def ecs():
    return client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")


def test_a_migration_that_exits_0_lets_the_service_step_run(with_migration):
    d = queued(with_migration("1.0.1"))

    assert run_until_finished(d.pk) == Deployment.State.SUCCESS
    d.refresh_from_db()
    log = texts(d)
    started = next(t for t in log if t.startswith("Started task "))
    assert "with the command python manage.py migrate --noinput" in started
    assert "Container migrate: exit code 0" in log
    assert any(t.endswith("completed: every essential container exited 0.") for t in log)
    assert log.index(started) < log.index("Step 2 of 2: Deploy web")
    migrate = d.outputs["steps"]["Migrate database"]
    assert migrate["task_arn"] and migrate["task_definition_arn"].endswith(
        "hello-color-dev-migrate:1"
    )
    task = ecs().describe_tasks(cluster="hello-color-dev", tasks=[migrate["task_arn"]])["tasks"][0]
    assert task["overrides"]["containerOverrides"][0]["command"][-1] == "--noinput"
    assert len(revisions(ecs(), "hello-color-dev")) == 2  # the service step ran


def test_a_migration_that_fails_fails_the_deployment_before_the_service_is_touched(
    with_migration,
):
    d = queued(with_migration(seed.FAILING_TAG))

    assert run_until_finished(d.pk) == Deployment.State.FAILED
    d.refresh_from_db()
    assert d.error.startswith("The task ")
    assert "failed: migrate (exit code 1 — Error: the command exited with status 1)" in d.error
    assert "Step 2 of 2: Deploy web" not in texts(d)
    assert revisions(ecs(), "hello-color-dev") == [revisions(ecs(), "hello-color-dev")[0]]
    service = ecs().describe_services(cluster="hello-color-dev", services=["hello-color-dev"])
    assert service["services"][0]["taskDefinition"].endswith("hello-color-dev:1")


def test_a_task_that_outlives_its_timeout_is_stopped(with_migration, monkeypatch):
    monkeypatch.setattr(rollouts, "TASK_SECONDS", 600)
    d = queued(with_migration("1.0.1"))
    assert deployment_execute(d.pk) == Deployment.State.EXECUTING
    cursor = Deployment.objects.get(pk=d.pk).cursor
    cursor["wait"]["deadline"] = timezone.now().timestamp() - 1
    Deployment.objects.filter(pk=d.pk).update(cursor=cursor, next_check_at=timezone.now())

    deployments_check()

    d.refresh_from_db()
    assert d.state == Deployment.State.FAILED
    assert d.error.endswith("did not stop within 300 s: it was stopped.")
    task_arn = d.outputs["steps"]["Migrate database"]["task_arn"]
    task = ecs().describe_tasks(cluster="hello-color-dev", tasks=[task_arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED" and task["stoppedReason"] == "deployserver: timeout"


def test_cancel_stops_the_task(with_migration, monkeypatch, admin_user):
    monkeypatch.setattr(rollouts, "TASK_SECONDS", 600)
    d = queued(with_migration("1.0.1"))
    assert deployment_execute(d.pk) == Deployment.State.EXECUTING

    deployment_cancel(deployment=d, user=admin_user)
    started = time.monotonic()
    deployments_check()

    d.refresh_from_db()
    assert d.state == Deployment.State.CANCELLED and time.monotonic() - started < 3
    task_arn = d.outputs["steps"]["Migrate database"]["task_arn"]
    name = task_arn.rsplit("/", 1)[-1]
    assert d.error == f"Cancelled by admin while its task {name} ran; the task was stopped."
    task = ecs().describe_tasks(cluster="hello-color-dev", tasks=[task_arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"] == "Cancelled by admin in deployserver"


def test_an_existing_task_definition_runs_and_its_essential_containers_decide(with_migration):
    registered = ecs().register_task_definition(
        family="hello-migrator",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "migrator", "image": "hello-color:1.0.1"}],
    )["taskDefinition"]["taskDefinitionArn"]
    d = queued(with_migration("1.0.1", task_definition="hello-migrator", task_family="",
                              containers=[]))  # fmt: skip

    assert run_until_finished(d.pk) == Deployment.State.SUCCESS
    d.refresh_from_db()
    assert d.outputs["steps"]["Migrate database"]["task_definition_arn"] == registered
    log = texts(d)
    assert "Running the existing task definition hello-migrator:1." in log
    assert "Container migrator: exit code 0" in log
    assert len(revisions(ecs(), "hello-migrator")) == 1  # nothing registered
