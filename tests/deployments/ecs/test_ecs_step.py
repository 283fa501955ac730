"""The ECS step refuses what AWS would refuse (moto accepts it) and builds exact requests."""

import pytest

from deployments.aws_ecs.fargate import FARGATE_MEMORY
from deployments.aws_ecs.step import ECS_DEPLOY
from releases.steps import REGISTRY, StepValidationError
from releases.substitution import SubstitutionError
from releases.variables import PackageInfo
from tests.factories import AwsAccountFactory

ROLE = "arn:aws:iam::123456789012:role/app"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
pytestmark = pytest.mark.django_db
PACKAGES = {"web": PackageInfo("hello-color", "1.0.1", "registry.example/hello-color:1.0.1")}


@pytest.fixture(autouse=True)
def account(db):
    return AwsAccountFactory(slug="a")


def props(**overrides):
    base = {
        "aws_account": "#{AwsAccount}",
        "region": "us-east-1",
        "cluster": "c",
        "service": "s",
        "task_family": "fam",
        "task_cpu": 256,
        "task_memory": 512,
        "containers": [{"name": "web", "image": "#{Package[web].Image}"}],
    }
    base.update(overrides)
    return base


def container(**overrides):
    return {"name": "web", "image": "nginx:1", "memory": 256, **overrides}


def errors_of(properties):
    return ECS_DEPLOY.clean(properties, packages=[])[1]


def test_the_ecs_step_is_registered_by_the_deployments_app():
    assert REGISTRY.get("aws-ecs-deploy") is ECS_DEPLOY


def test_a_minimal_fargate_step_is_valid_and_gets_defaults():
    cleaned, errors = ECS_DEPLOY.clean(props(), packages=[])
    assert errors == {}
    assert cleaned["network_mode"] == "awsvpc"
    assert cleaned["desired_count"] == 1 and cleaned["maximum_percent"] == 200


@pytest.mark.parametrize(
    ("cpu", "memory"), [(c, m) for c, ms in FARGATE_MEMORY.items() for m in (ms[0], ms[-1])]
)
def test_every_fargate_pair_of_the_aws_table_is_accepted(cpu, memory):
    assert errors_of(props(task_cpu=cpu, task_memory=memory)) == {}


@pytest.mark.parametrize(
    ("cpu", "memory", "key", "fragment"),
    [
        (
            3,
            512,
            "task_cpu",
            "FARGATE task CPU must be one of 256, 512, 1024, 2048, 4096, 8192, 16384",
        ),
        (300, 512, "task_cpu", "must be one of"),
        (256, 4096, "task_memory", "With 256 CPU units FARGATE accepts 512, 1024, 2048 MiB"),
        (512, 1536, "task_memory", "1024 to 4096 in steps of 1024"),
        (8192, 18432, "task_memory", "16384 to 61440 in steps of 4096"),
        (16384, 32768 + 4096, "task_memory", "in steps of 8192"),
        (None, 512, "task_cpu", "FARGATE needs a task CPU"),
    ],
)
def test_fargate_pairs_outside_the_table_are_refused(cpu, memory, key, fragment):
    errors = errors_of(props(task_cpu=cpu, task_memory=memory))
    assert fragment in errors[key][0]


def test_fargate_with_bridge_is_refused():
    assert errors_of(props(network_mode="bridge")) == {
        "network_mode": ["FARGATE tasks need the awsvpc network mode (got bridge)."]
    }


def test_ec2_allows_bridge_and_leaves_task_sizes_optional():
    properties = props(
        requires_compatibilities="EC2", network_mode="bridge", task_cpu=None, task_memory=None,
        containers=[container(port_mappings=[{"container_port": 80, "host_port": 0}])],
    )  # fmt: skip
    assert errors_of(properties) == {}


def test_ec2_task_cpu_below_the_minimum_is_refused():
    errors = errors_of(props(requires_compatibilities="EC2", network_mode="bridge", task_cpu=3))
    assert errors == {"task_cpu": ["Enter a number between 128 and 196608 (got 3)."]}


@pytest.mark.parametrize(
    ("entry", "key", "message"),
    [
        (
            {"name": "", "image": "x", "memory": 256},
            "containers[0].name",
            "Container name is required.",
        ),
        ({"name": "web", "image": "", "memory": 256}, "containers[0].image", "Image is required."),
        (
            {"name": "a b", "image": "x", "memory": 256},
            "containers[0].name",
            "Use up to 255 letters, digits, '-' and '_'.",
        ),
        (
            container(memory=256, memory_reservation=300),
            "containers[0].memory_reservation",
            "The reservation (300) exceeds the memory limit (256).",
        ),
        (
            container(memory=1024),
            "containers[0].memory",
            "The container memory (1024) exceeds the task memory (512).",
        ),
        (
            container(port_mappings=[{"container_port": 0}]),
            "containers[0].port_mappings[0].container_port",
            "Enter a number between 1 and 65535 (got 0).",
        ),
        (
            container(port_mappings=[{"container_port": 65536}]),
            "containers[0].port_mappings[0].container_port",
            "Enter a number between 1 and 65535 (got 65536).",
        ),
        (
            container(port_mappings=[{"container_port": 80, "host_port": 8080}]),
            "containers[0].port_mappings[0].host_port",
            "With awsvpc the host port must be empty or equal the container port.",
        ),
        (
            container(port_mappings=[{"container_port": 80, "protocol": "sctp"}]),
            "containers[0].port_mappings[0].protocol",
            "Choose one of tcp, udp (got 'sctp').",
        ),
        (
            container(port_mappings=[{"container_port": 80}, {"container_port": "80"}]),
            "containers[0].port_mappings[1].container_port",
            "Port 80/tcp is mapped twice.",
        ),
        (
            container(secrets=[{"name": "DB", "value_from": "db-password"}]),
            "containers[0].secrets[0].value_from",
            "Enter the ARN of an SSM parameter",
        ),
        (
            container(log_configuration={"log_driver": "json-file"}),
            "containers[0].log_configuration.log_driver",
            "FARGATE supports the awslogs, awsfirelens, splunk log drivers.",
        ),
        (
            container(
                log_configuration={
                    "log_driver": "awslogs",
                    "options": [{"name": "awslogs-group", "value": "g"}],
                }
            ),
            "containers[0].log_configuration.options",
            "The awslogs driver needs the option(s) awslogs-region, awslogs-stream-prefix.",
        ),
        (container(essential="maybe"), "containers[0].essential", "Enter true or false."),
    ],
)
def test_container_rules(entry, key, message):
    errors = errors_of(props(containers=[entry], execution_role_arn=ROLE))
    assert key in errors, errors
    assert errors[key][0].startswith(message)


def test_a_container_without_memory_needs_task_memory():
    properties = props(requires_compatibilities="EC2", network_mode="bridge", task_cpu=None,
                       task_memory=None, containers=[{"name": "web", "image": "x"}])  # fmt: skip
    assert errors_of(properties) == {
        "containers[0].memory": [
            "Give the container a memory or a memory reservation (or the task a memory)."
        ]
    }


def test_secrets_need_an_execution_role():
    errors = errors_of(
        props(containers=[container(secrets=[{"name": "DB", "value_from": SECRET_ARN}])])
    )
    assert errors == {
        "execution_role_arn": [
            "Containers with secrets, or FARGATE containers logging with awslogs, need an "
            "execution role."
        ]
    }


@pytest.mark.parametrize(
    "arn", ["role/app", "arn:aws:iam::123:role/app", "arn:aws:iam::123456789012:user/bob"]
)
def test_malformed_role_arns_are_refused(arn):
    assert list(errors_of(props(task_role_arn=arn))) == ["task_role_arn"]


def test_no_containers_is_refused():
    assert errors_of(props(containers=[])) == {"containers": ["Add at least one container."]}


def test_an_unknown_aws_account_is_refused():
    assert errors_of(props(aws_account="nope")) == {
        "aws_account": ["No AWS account 'nope'; give an account slug."]
    }


def test_unknown_properties_are_refused():
    assert errors_of(props(colour="red")) == {"colour": ["Unknown property."]}


def test_expressions_pass_the_raw_check_and_are_checked_after_substitution():
    properties = props(task_cpu="#{Cpu}", network_mode="#{Mode}")
    assert errors_of(properties) == {}
    with pytest.raises(StepValidationError) as caught:
        ECS_DEPLOY.build_requests(
            properties, {"Cpu": "3", "Mode": "bridge", "AwsAccount": "a"}, PACKAGES
        )
    assert set(caught.value.errors) == {"task_cpu", "network_mode"}


def test_an_unresolved_name_is_a_substitution_error():
    with pytest.raises(SubstitutionError) as caught:
        ECS_DEPLOY.build_requests(props(cluster="#{Nope}"), {"AwsAccount": "a"}, PACKAGES)
    assert caught.value.field_errors() == {"cluster": ["#{Nope} is not defined"]}


def test_requests_are_built_from_substituted_values():
    properties = props(
        task_role_arn=ROLE,
        execution_role_arn=ROLE,
        containers=[
            container(
                image="#{Package[web].Image}",
                cpu=128,
                memory_reservation=128,
                port_mappings=[{"container_port": "8080", "protocol": "tcp"}],
                environment=[{"name": "COLOR", "value": "#{Color | ToUpper}"}],
                secrets=[{"name": "DB", "value_from": SECRET_ARN}],
                log_configuration={
                    "log_driver": "awslogs",
                    "options": [
                        {"name": "awslogs-group", "value": "/ecs/#{Package[web].PackageId}"},
                        {"name": "awslogs-region", "value": "us-east-1"},
                        {"name": "awslogs-stream-prefix", "value": "web"},
                    ],
                },
            )
        ],
        desired_count="#{Count}",
        circuit_breaker=False,
        force_new_deployment="true",
    )
    register, update = ECS_DEPLOY.build_requests(
        properties, {"Color": "blue", "Count": "3", "AwsAccount": "a"}, PACKAGES
    )
    assert register["containerDefinitions"] == [
        {
            "name": "web",
            "image": "registry.example/hello-color:1.0.1",
            "essential": True,
            "cpu": 128,
            "memory": 256,
            "memoryReservation": 128,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "COLOR", "value": "BLUE"}],
            "secrets": [{"name": "DB", "valueFrom": SECRET_ARN}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/hello-color",
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "web",
                },
            },
        }
    ]
    assert register["cpu"] == "256" and register["memory"] == "512"
    assert update["desiredCount"] == 3
    assert update["forceNewDeployment"] is True
    assert update["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": False,
        "rollback": False,
    }


def test_the_build_plan_carries_what_the_engine_needs():
    plan = ECS_DEPLOY.build_plan(
        props(wait_mode="none", timeout_minutes="5"), {"AwsAccount": "a"}, PACKAGES
    )
    assert (plan.aws_account, plan.region, plan.wait_mode, plan.timeout_minutes) == (
        "a",
        "us-east-1",
        "none",
        5,
    )
    assert plan.rollback_on_failure is True
