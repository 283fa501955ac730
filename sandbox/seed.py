"""Start the sandbox's moto server and seed the demo, idempotently.

The demo reproduces the product's founding scenario: an ECR repository ``hello-color`` with a few
tagged images and an ECR feed reading it, environments Dev, Test and Prod, a project "Hello Color"
whose process is the seed's ECS step (FARGATE, awsvpc, 256 CPU / 512 MiB, container ``web`` on
port 80 with ``OCTO_COLOR``/``OCTO_MSG`` from per-environment variables, desired count 2, 100 % /
200 %), and per environment an ECS cluster and a FARGATE service (with the VPC, subnet and
security group awsvpc needs). Each part is created only when missing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from hashlib import sha256

from django.contrib.auth import get_user_model
from django.db import transaction
from moto.server import ThreadedMotoServer

from deployserver.core.aws import client
from deployserver.core.models import AwsAccount, Team
from deployserver.core.services import aws_account_create
from feeds.models import Feed
from feeds.services import feed_create
from releases.models import Environment, Project, Variable
from releases.process import process_for, process_update
from releases.services import environment_create, project_create
from releases.teams import GrantSpec, team_save
from releases.variables import VariableInput, variable_set_replace

from . import rollouts

log = logging.getLogger(__name__)

REPOSITORY = "hello-color"
TAGS = ["1.0.0", "1.0.1", "1.1.0", "1.2.0-beta.1", "latest"]
# A pre-release whose tag contains "fail": its rollout fails in the sandbox (see rollouts.py).
FAILING_TAG = "1.2.0-fail.1"
ENVIRONMENTS = [("Dev", "dev"), ("Test", "test"), ("Prod", "prod")]
ACCOUNT_NAME = "Sandbox"
# moto accepts any key pair; these are AWS's documented example credentials.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
PROJECT_SLUG = "hello-color"
# The example team: its member may deploy to Dev and Test and only look at Prod.
TEAM_NAME = "Developers"
DEVELOPER = "developer"
DEVELOPER_PASSWORD_DEFAULT = "developer-pass-1"
FEED_NAME = "Sandbox ECR"
EXECUTION_ROLE = "ecsTaskExecutionRole"
COLORS = {"dev": "blue", "test": "green", "prod": "red"}


def start_server(port: int) -> str:
    """Start moto on loopback with progressing ECS rollouts; returns the endpoint URL."""
    # Services created in the sandbox report their desired tasks as running.
    os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "2")
    rollouts.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return f"http://127.0.0.1:{port}"


def _manifest(tag: str) -> str:
    layer = sha256(f"hello-color {tag}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1470,
                "digest": "sha256:" + sha256(f"config {tag}".encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 3_370_000 + len(tag) * 1000,
                    "digest": f"sha256:{layer}",
                }
            ],
        }
    )


def seed_aws(account: AwsAccount) -> None:
    """ECR images and, per environment, an ECS cluster and service; skips what exists."""
    uri = _seed_images(account)
    _seed_execution_role(account)
    ec2, ecs = client(account, "ec2"), client(account, "ecs")
    for name, slug in ENVIRONMENTS:
        _seed_service(ec2, ecs, name, slug, uri)


def _seed_images(account: AwsAccount) -> str:
    """The ``hello-color`` repository and its tagged images; returns the repository URI."""
    ecr = client(account, "ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=REPOSITORY)
    existing = {
        tag
        for page in ecr.get_paginator("describe_images").paginate(repositoryName=REPOSITORY)
        for image in page["imageDetails"]
        for tag in image.get("imageTags", [])
    }
    uri = ecr.describe_repositories(repositoryNames=[REPOSITORY])["repositories"][0][
        "repositoryUri"
    ]
    for tag in [*TAGS, FAILING_TAG]:
        if tag not in existing:
            ecr.put_image(repositoryName=REPOSITORY, imageManifest=_manifest(tag), imageTag=tag)
    return uri


def _seed_execution_role(account: AwsAccount) -> None:
    iam = client(account, "iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName=EXECUTION_ROLE,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )


def _seed_service(ec2, ecs, name: str, slug: str, uri: str) -> None:
    """The environment's ECS cluster and FARGATE service (with the network awsvpc needs)."""
    cluster = f"hello-color-{slug}"
    found = (
        ecs.describe_services(cluster=cluster, services=[cluster]).get("services")
        if (ecs.describe_clusters(clusters=[cluster])["clusters"])
        else []
    )
    if found:
        return
    ecs.create_cluster(clusterName=cluster)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName=f"{cluster}-web", Description=f"{name} web", VpcId=vpc
    )["GroupId"]
    ecs.register_task_definition(
        family=cluster,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "web",
                "image": f"{uri}:1.0.0",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "OCTO_COLOR", "value": "grey"}],
            }
        ],
    )
    ecs.create_service(
        cluster=cluster,
        serviceName=cluster,
        taskDefinition=cluster,
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group],
                "assignPublicIp": "ENABLED",
            }
        },
    )
    log.info("sandbox: created ECS cluster and service %s", cluster)


@transaction.atomic
def seed_database(endpoint: str) -> AwsAccount:
    """The sandbox account, Dev/Test/Prod and the Hello Color project; skips what exists."""
    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    account = AwsAccount.objects.filter(name=ACCOUNT_NAME).first()
    if account is None:
        account = aws_account_create(
            user=user,
            name=ACCOUNT_NAME,
            description="The local AWS sandbox started by make run.",
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            region=REGION,
            endpoint_url=endpoint,
        )
    elif account.endpoint_url != endpoint:
        account.endpoint_url = endpoint
        account.save(update_fields=["endpoint_url", "updated_at"])
    for order, (name, slug) in enumerate(ENVIRONMENTS):
        if not Environment.objects.filter(slug=slug).exists():
            environment_create(user=user, name=name, slug=slug, sort_order=order)
    if not Project.objects.filter(slug=PROJECT_SLUG).exists():
        project_create(
            user=user,
            name="Hello Color",
            slug=PROJECT_SLUG,
            description="The demo service: one FARGATE container showing a colour per environment.",
        )
    return account


def _role_arn(account: AwsAccount) -> str:
    return client(account, "iam").get_role(RoleName=EXECUTION_ROLE)["Role"]["Arn"]


def ecs_step(feed: Feed, *, execution_role_arn: str) -> dict:
    """The seed's ECS step; everything that differs per environment is a variable."""
    return {
        "name": "Deploy web",
        "type": "aws-ecs-deploy",
        "packages": [{"name": "web", "feed": feed.pk, "package_id": REPOSITORY}],
        "properties": {
            "aws_account": "#{AwsAccount}",
            "region": REGION,
            "cluster": "#{ClusterName}",
            "service": "#{ServiceName}",
            "task_family": "#{TaskName}",
            "requires_compatibilities": "FARGATE",
            "network_mode": "awsvpc",
            "task_cpu": 256,
            "task_memory": 512,
            "execution_role_arn": execution_role_arn,
            "containers": [
                {
                    "name": "web",
                    "image": "#{Package[web].Image}",
                    "essential": True,
                    "port_mappings": [{"container_port": 80, "protocol": "tcp"}],
                    "environment": [
                        {"name": "OCTO_COLOR", "value": "#{Color}"},
                        {"name": "OCTO_MSG", "value": "#{Message}"},
                    ],
                }
            ],
            "desired_count": 2,
            "minimum_healthy_percent": 100,
            "maximum_percent": 200,
            "circuit_breaker": True,
            "circuit_breaker_rollback": True,
            "force_new_deployment": True,
            "wait_mode": "steady",
            "timeout_minutes": 10,
            "rollback_on_failure": True,
        },
    }


def _variables(account: AwsAccount) -> list[VariableInput]:
    rows = [VariableInput("AwsAccount", account.slug, type="aws-account")]
    for name, slug in ENVIRONMENTS:
        rows += [
            VariableInput("Color", COLORS[slug], environments=[slug]),
            VariableInput("Message", f"Hello from {name}", environments=[slug]),
            VariableInput("TaskName", f"hello-color-{slug}", environments=[slug]),
            VariableInput("ClusterName", f"hello-color-{slug}", environments=[slug]),
            VariableInput("ServiceName", f"hello-color-{slug}", environments=[slug]),
        ]
    return rows


@transaction.atomic
def seed_project(account: AwsAccount) -> Project:
    """The ECR feed, and the Hello Color project's variables and process (each when missing)."""
    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    feed = Feed.objects.filter(name=FEED_NAME).first()
    if feed is None:
        feed = feed_create(
            user=user, name=FEED_NAME, feed_type="aws-ecr", account=account, region=REGION
        )
    project = Project.objects.get(slug=PROJECT_SLUG)
    if not Variable.objects.filter(project=project).exists():
        variable_set_replace(project=project, rows=_variables(account), user=user)
    if not process_for(project).steps:
        step = ecs_step(feed, execution_role_arn=_role_arn(account))
        process_update(project=project, steps=[step], user=user)
    return project


@transaction.atomic
def seed_team() -> None:
    """The "Developers" team (deployer on Dev and Test, viewer on Prod) and its user
    ``developer`` (password from DEPLOYSERVER_DEVELOPER_PASSWORD, else developer-pass-1)."""
    if Team.objects.filter(name=TEAM_NAME).exists():
        return
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    developer, created = get_user_model().objects.get_or_create(username=DEVELOPER)
    if created:
        password = os.environ.get("DEPLOYSERVER_DEVELOPER_PASSWORD") or DEVELOPER_PASSWORD_DEFAULT
        developer.set_password(password)
        developer.save()
    environments = {e.slug: e for e in Environment.objects.filter(slug__in=["dev", "test", "prod"])}
    team_save(
        team=None,
        user=admin,
        name=TEAM_NAME,
        description="The demo's developers: deploy to Dev and Test, look at Prod.",
        members=[developer],
        grants=[
            GrantSpec(role="deployer", environments=(environments["dev"], environments["test"])),
            GrantSpec(role="viewer", environments=(environments["prod"],)),
        ],
    )


def seed(endpoint: str) -> None:
    account = seed_database(endpoint)
    seed_aws(account)
    seed_project(account)
    seed_team()
