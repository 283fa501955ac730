"""The seed of the ECS example: Dev and Prod, an ECR feed on moto with hello-color, and a
project whose differences between environments are all variables."""

import json

import pytest
from django.core.cache import cache

from deployserver.core.aws import client
from releases.models import Environment
from releases.process import process_update
from releases.variables import VariableInput, variable_set_replace
from tests.releases.factories import ProjectFactory

SECRET = 'p@ss"word/with+symbols=='
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def manifest(name: str) -> str:
    digest = "sha256:" + f"{abs(hash(name)):064x}"[-64:]
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 100,
                "digest": digest,
            },
            "layers": [],
        }
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def envs(db):
    return {
        "dev": Environment.objects.create(name="Dev", slug="dev", sort_order=0),
        "prod": Environment.objects.create(name="Prod", slug="prod", sort_order=1),
    }


@pytest.fixture
def ecr_feed(aws_account, admin_user):
    from feeds.services import feed_create

    ecr = client(aws_account, "ecr")
    ecr.create_repository(repositoryName="hello-color")
    for tag in ("1.0.0", "1.0.1", "1.1.0-beta.1", "latest"):
        ecr.put_image(
            repositoryName="hello-color", imageManifest=manifest(f"hello:{tag}"), imageTag=tag
        )
    return feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)


def ecs_properties(**overrides) -> dict:
    properties = {
        "aws_account": "#{AwsAccount}",
        "region": "us-east-1",
        "cluster": "#{ClusterName}",
        "service": "#{ServiceName}",
        "task_family": "#{TaskName}",
        "requires_compatibilities": "FARGATE",
        "network_mode": "awsvpc",
        "task_cpu": "256",
        "task_memory": "512",
        "execution_role_arn": EXECUTION_ROLE,
        "task_role_arn": EXECUTION_ROLE,
        "containers": [
            {
                "name": "web",
                "image": "#{Package[web].Image}",
                "memory": 256,
                "port_mappings": [{"container_port": 80, "host_port": 80, "protocol": "tcp"}],
                "environment": [
                    {"name": "OCTO_COLOR", "value": "#{Color}"},
                    {"name": "OCTO_MSG", "value": "#{Message}"},
                    {"name": "DB_PASSWORD", "value": "#{DbPassword}"},
                    {"name": "DB_PASSWORD_B64", "value": "#{DbPassword | ToBase64}"},
                ],
            }
        ],
        "desired_count": 2,
        "minimum_healthy_percent": 100,
        "maximum_percent": 200,
        "force_new_deployment": True,
    }
    properties.update(overrides)
    return properties


def ecs_step(feed, **overrides) -> dict:
    return {
        "name": "Deploy web",
        "type": "aws-ecs-deploy",
        "packages": [{"name": "web", "feed": feed.pk, "package_id": "hello-color"}],
        "properties": ecs_properties(**overrides),
    }


@pytest.fixture
def hello_project(envs, ecr_feed, aws_account, admin_user):
    project = ProjectFactory(name="Hello Color", slug="hello-color")
    variable_set_replace(
        project=project,
        user=admin_user,
        rows=[
            VariableInput("Color", "red"),
            VariableInput("Color", "blue", environments=["dev"]),
            VariableInput("Message", "Hello #{Environment.Name}"),
            VariableInput("TaskName", "hello-#{Environment.Name | ToLower}"),
            VariableInput("ClusterName", "dev-cluster", environments=["dev"]),
            VariableInput("ClusterName", "prod-cluster", environments=["prod"]),
            VariableInput("ServiceName", "hello-svc"),
            VariableInput("AwsAccount", aws_account.slug, type="aws-account"),
            VariableInput("DbPassword", SECRET, type="sensitive"),
        ],
    )
    process_update(project=project, steps=[ecs_step(ecr_feed)], user=admin_user)
    return project
