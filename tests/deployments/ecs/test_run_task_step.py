"""The ``aws-ecs-run-task`` step's validation (the deploy step's task-definition rules, plus
subnets and the command) and the exact requests it builds."""

import pytest

from deployments.aws_ecs.task_step import ECS_RUN_TASK
from releases.steps import REGISTRY, StepValidationError
from releases.variables import PackageInfo
from tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db
PACKAGES = {"migrate": PackageInfo("app", "1.2.0", "registry.example/app:1.2.0")}
VALUES = {"AwsAccount": "a"}


@pytest.fixture(autouse=True)
def account(db):
    return AwsAccountFactory(slug="a")


def props(**overrides):
    return {
        "aws_account": "#{AwsAccount}",
        "region": "us-east-1",
        "cluster": "c",
        "task_family": "app-migrate",
        "task_cpu": 256,
        "task_memory": 512,
        "containers": [{"name": "migrate", "image": "#{Package[migrate].Image}"}],
        "subnets": "subnet-0a1, subnet-0b2",
        "security_groups": "sg-0c3",
        "command": "python manage.py migrate --noinput",
        **overrides,
    }


def errors_of(properties, resolved=False):
    return ECS_RUN_TASK.clean(properties, packages=[], resolved=resolved)[1]


def test_the_run_task_step_is_registered_beside_the_deploy_step():
    assert REGISTRY.get("aws-ecs-run-task") is ECS_RUN_TASK


def test_the_requests_register_the_task_and_run_one_with_the_command_overridden():
    plan = ECS_RUN_TASK.build_plan(props(assign_public_ip=True), VALUES, PACKAGES)

    assert plan.register_task_definition["containerDefinitions"][0]["image"] == (
        "registry.example/app:1.2.0"
    )
    assert plan.run_task == {
        "cluster": "c",
        "taskDefinition": "app-migrate",
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": "deployserver",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-0a1", "subnet-0b2"],
                "securityGroups": ["sg-0c3"],
                "assignPublicIp": "ENABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {"name": "migrate", "command": ["python", "manage.py", "migrate", "--noinput"]}
            ]
        },
    }
    assert plan.essential == ("migrate",) and plan.timeout_minutes == 30


def test_without_a_command_the_images_own_runs():
    plan = ECS_RUN_TASK.build_plan(props(command=""), VALUES, PACKAGES)
    assert "overrides" not in plan.run_task


def test_the_deploy_steps_task_definition_rules_apply():
    errors = errors_of(props(network_mode="bridge", subnets=""))
    assert errors == {"network_mode": ["FARGATE tasks need the awsvpc network mode (got bridge)."]}


def test_awsvpc_needs_a_subnet_once_resolved():
    assert errors_of(props(subnets=""), resolved=True) == {
        "subnets": ["The awsvpc network mode needs at least one subnet."]
    }
    with pytest.raises(StepValidationError):
        ECS_RUN_TASK.build_plan(props(subnets=""), VALUES, PACKAGES)


def test_subnets_without_awsvpc_and_bad_ids_are_refused():
    ec2 = props(requires_compatibilities="EC2", network_mode="bridge", task_cpu=None)
    assert "subnets" in errors_of(ec2)
    assert errors_of(props(subnets="vpc-123")) == {
        "subnets": ["Enter subnet IDs separated by commas (subnet-0a1b2c…)."]
    }


def test_a_command_a_shell_could_not_split_is_refused():
    assert errors_of(props(command='python -c "print(1)')) == {
        "command": ["The command cannot be split: No closing quotation."]
    }


def test_an_existing_task_definition_is_run_as_it_is():
    plan = ECS_RUN_TASK.build_plan(
        props(task_definition="app-migrate:7", task_family="", containers=[], task_cpu=None),
        VALUES,
        PACKAGES,
    )
    assert plan.register_task_definition is None
    assert plan.run_task["taskDefinition"] == "app-migrate:7"
    assert plan.run_task["overrides"]["containerOverrides"][0]["name"] == ""  # named at run
    preview = ECS_RUN_TASK.preview(
        props(task_definition="app-migrate:7", task_family="", containers=[], task_cpu=None),
        VALUES,
        PACKAGES,
    )
    assert list(preview["requests"]) == ["RunTask"]


def test_without_an_existing_task_definition_a_family_and_a_container_are_needed():
    errors = errors_of(props(task_family="", containers=[]))
    assert errors["task_family"] == ["Give a task family, or an existing task definition to run."]
    assert errors["containers"] == ["Give a container, or an existing task definition to run."]
