"""The properties of the ``aws-ecs-deploy`` step, in the schema language of ``releases.steps``.

Names follow the ECS API (``task_cpu`` is ``cpu`` of RegisterTaskDefinition …) in snake case;
every property may hold ``#{…}`` expressions.
"""

import copy

from deployserver.core.models import ROLE_ARN_PATTERN, region_validator
from releases.steps import Boolean, Choice, Integer, ListOf, Obj, Text

SECRET_SOURCE = (
    r"^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter/[\w./-]+"
    r"|secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@:-]+)$"
)
NAME = r"^[A-Za-z0-9_-]{1,255}$"
LOG_DRIVERS = (
    "awslogs",
    "awsfirelens",
    "splunk",
    "json-file",
    "syslog",
    "fluentd",
    "gelf",
    "journald",
)
FARGATE_LOG_DRIVERS = ("awslogs", "awsfirelens", "splunk")

name_value = Obj({"name": Text(label="Name", required=True), "value": Text(label="Value")})
port_mapping = Obj(
    {
        "container_port": Integer(
            label="Container port", required=True, min_value=1, max_value=65535
        ),
        "host_port": Integer(
            label="Host port",
            min_value=0,
            max_value=65535,
            help="Leave empty with awsvpc; 0 picks a dynamic port (bridge).",
        ),
        "protocol": Choice(("tcp", "udp"), label="Protocol", default="tcp"),
    }
)
secret = Obj(
    {
        "name": Text(label="Name", required=True),
        "value_from": Text(
            label="Value from",
            required=True,
            pattern=SECRET_SOURCE,
            message="Enter the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/…) "
            "or a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:…).",
        ),
    }
)
container = Obj(
    {
        "name": Text(
            label="Container name",
            required=True,
            pattern=NAME,
            message="Use up to 255 letters, digits, '-' and '_'.",
        ),
        "image": Text(label="Image", required=True, help="Usually #{Package[<reference>].Image}."),
        "essential": Boolean(label="Essential", default=True),
        "cpu": Integer(label="CPU units", min_value=0, max_value=196608),
        "memory": Integer(label="Memory (MiB, hard limit)", min_value=6),
        "memory_reservation": Integer(label="Memory reservation (MiB, soft limit)", min_value=6),
        "port_mappings": ListOf(port_mapping, label="port mapping"),
        "environment": ListOf(name_value, label="environment variable"),
        "secrets": ListOf(secret, label="secret"),
        "log_configuration": Obj(
            {
                "log_driver": Choice(("", *LOG_DRIVERS), label="Log driver"),
                "options": ListOf(name_value, label="log option"),
            },
            label="Log configuration",
        ),
    }
)
TARGET = {
    "aws_account": Text(
        group="Target",
        label="AWS account",
        required=True,
        help="The slug of an AWS account, usually #{AwsAccount}.",
    ),
    "region": Text(
        group="Target",
        label="Region",
        required=True,
        pattern=region_validator.regex.pattern,
        message="Enter an AWS region such as eu-west-1.",
    ),
    "cluster": Text(group="Target", label="Cluster", required=True),
}
TASK_DEFINITION = {
    "task_family": Text(
        group="Task definition",
        label="Task family",
        required=True,
        pattern=NAME,
        message="Use up to 255 letters, digits, '-' and '_'.",
    ),
    "requires_compatibilities": Choice(
        ("FARGATE", "EC2"), group="Task definition", label="Launch type", default="FARGATE"
    ),
    "network_mode": Choice(
        ("awsvpc", "bridge", "host", "none"),
        group="Task definition",
        label="Network mode",
        default="awsvpc",
    ),
    "task_cpu": Integer(
        group="Task definition", label="Task CPU units", min_value=128, max_value=196608
    ),
    "task_memory": Integer(group="Task definition", label="Task memory (MiB)", min_value=6),
    "task_role_arn": Text(
        group="Task definition",
        label="Task role ARN",
        pattern=ROLE_ARN_PATTERN,
        message="Enter a role ARN such as arn:aws:iam::123456789012:role/app.",
    ),
    "execution_role_arn": Text(
        group="Task definition",
        label="Execution role ARN",
        pattern=ROLE_ARN_PATTERN,
        message="Enter a role ARN such as arn:aws:iam::123456789012:role/ecsTaskExecutionRole.",
    ),
    "containers": ListOf(container, label="container", required=True),
}
SCHEMA = Obj(
    {
        **TARGET,
        "service": Text(group="Target", label="Service", required=True),
        **TASK_DEFINITION,
        "desired_count": Integer(group="Rollout", label="Desired count", min_value=0, default=1),
        "minimum_healthy_percent": Integer(
            group="Rollout", label="Minimum healthy %", min_value=0, max_value=100, default=100
        ),
        "maximum_percent": Integer(
            group="Rollout", label="Maximum %", min_value=100, max_value=400, default=200
        ),
        "circuit_breaker": Boolean(
            group="Rollout", label="Deployment circuit breaker", default=True
        ),
        "circuit_breaker_rollback": Boolean(
            group="Rollout", label="Roll back when the circuit breaker trips", default=True
        ),
        "force_new_deployment": Boolean(
            group="Rollout", label="Force new deployment", default=False
        ),
        "wait_mode": Choice(
            ("steady", "none"),
            group="Rollout",
            label="Wait",
            default="steady",
            help="steady: wait for the rollout to complete; none: don't wait.",
        ),
        "timeout_minutes": Integer(
            group="Rollout", label="Timeout (minutes)", min_value=1, max_value=360, default=30
        ),
        "rollback_on_failure": Boolean(
            group="Rollout", label="Restore the previous task definition on failure", default=True
        ),
    }
)

# The ``aws-ecs-run-task`` step: one task run to its end (a database migration, say), its task
# definition built like the deploy step's from the release's packages and variables.
SUBNET_LIST = r"^\s*subnet-[0-9a-f]+(\s*,\s*subnet-[0-9a-f]+)*\s*$"
GROUP_LIST = r"^\s*sg-[0-9a-f]+(\s*,\s*sg-[0-9a-f]+)*\s*$"


def _optional(field):
    optional = copy.copy(field)
    optional.required = False
    return optional


RUN_TASK_SCHEMA = Obj(
    {
        **TARGET,
        "task_definition": Text(
            group="Task definition",
            label="Existing task definition",
            help="Run this task definition as it is (family, family:revision or ARN); leave "
            "empty to register one from the fields and containers below.",
        ),
        **TASK_DEFINITION,
        "task_family": _optional(TASK_DEFINITION["task_family"]),
        "containers": _optional(TASK_DEFINITION["containers"]),
        "subnets": Text(
            group="Run",
            label="Subnets",
            pattern=SUBNET_LIST,
            message="Enter subnet IDs separated by commas (subnet-0a1b2c…).",
            help="Needed with the awsvpc network mode; comma-separated.",
        ),
        "security_groups": Text(
            group="Run",
            label="Security groups",
            pattern=GROUP_LIST,
            message="Enter security group IDs separated by commas (sg-0a1b2c…).",
        ),
        "assign_public_ip": Boolean(group="Run", label="Assign a public IP", default=False),
        "command": Text(
            group="Run",
            label="Command",
            help="Overrides the first container's command, split like a shell would "
            "(e.g. python manage.py migrate --noinput). Empty: the image's own.",
        ),
        "timeout_minutes": Integer(
            group="Run", label="Timeout (minutes)", min_value=1, max_value=360, default=30
        ),
    }
)
