"""Start the sandbox's moto server and seed the demo, idempotently.

The demo reproduces the product's founding scenario: an ECR repository ``hello-color`` with a few
tagged images, environments Dev, Test and Prod, a project "Hello Color", and per environment an
ECS cluster and a FARGATE service (with the VPC, subnet and security group awsvpc needs).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from hashlib import sha256

from django.contrib.auth import get_user_model
from django.db import transaction

from deployserver.aws import client
from deployserver.models import AwsAccount
from deployserver.services import aws_account_create
from releases.models import Environment, Project
from releases.services import environment_create, project_create

from . import rollouts

log = logging.getLogger(__name__)

REPOSITORY = "hello-color"
TAGS = ["1.0.0", "1.0.1", "1.1.0", "1.2.0-beta.1", "latest"]
ENVIRONMENTS = [("Dev", "dev"), ("Test", "test"), ("Prod", "prod")]
ACCOUNT_NAME = "Sandbox"
# moto accepts any key pair; these are AWS's documented example credentials.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"


def start_server(port: int) -> str:
    """Start moto on loopback with progressing ECS rollouts; returns the endpoint URL."""
    from moto.server import ThreadedMotoServer

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
    for tag in TAGS:
        if tag not in existing:
            ecr.put_image(repositoryName=REPOSITORY, imageManifest=_manifest(tag), imageTag=tag)

    ec2 = client(account, "ec2")
    ecs = client(account, "ecs")
    for name, slug in ENVIRONMENTS:
        cluster = f"hello-color-{slug}"
        found = (
            ecs.describe_services(cluster=cluster, services=[cluster]).get("services")
            if (ecs.describe_clusters(clusters=[cluster])["clusters"])
            else []
        )
        if found:
            continue
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
    if not Project.objects.filter(slug="hello-color").exists():
        project_create(
            user=user,
            name="Hello Color",
            slug="hello-color",
            description="The demo service: one FARGATE container showing a colour per environment.",
        )
    return account


def seed(endpoint: str) -> None:
    account = seed_database(endpoint)
    seed_aws(account)
