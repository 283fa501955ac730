"""Releasing fixtures: Dev → Test → Prod, an ECR feed on the moto server with a few versions of
``hello-color``, and a project whose process deploys it (package reference ``web``)."""

import pytest
from django.core.cache import cache

from deployserver.core.aws import client
from releases.models import Environment
from releases.process import process_update
from releases.variables import VariableInput, variable_set_replace
from tests.feeds.registry_kit import ecr_manifest
from tests.process.conftest import ecs_step
from tests.releases.factories import (
    LifecycleFactory,
    PhaseEnvironmentFactory,
    PhaseFactory,
    ProjectFactory,
)

TAGS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0-rc.1", "latest"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Registry listings are cached in Redis (this run's own db): every test starts empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def envs(db):
    return {
        slug: Environment.objects.create(name=slug.title(), slug=slug, sort_order=i)
        for i, slug in enumerate(("dev", "test", "prod"))
    }


def make_lifecycle(name: str, phases: list[dict]):
    """``phases``: dicts of name, envs, and optionally automatic, optional, minimum."""
    lifecycle = LifecycleFactory(name=name, slug=name.lower().replace(" ", "-"))
    for order, spec in enumerate(phases):
        phase = PhaseFactory(
            lifecycle=lifecycle,
            name=spec["name"],
            sort_order=order,
            is_optional=spec.get("optional", False),
            minimum_environments=spec.get("minimum", 0),
        )
        for env in spec["envs"]:
            PhaseEnvironmentFactory(
                phase=phase, environment=env, automatic=env in spec.get("automatic", ())
            )
    return lifecycle


@pytest.fixture
def standard_lifecycle(envs):
    """Dev, then Test, then Prod: one required phase each."""
    return make_lifecycle(
        "Standard",
        [{"name": e.name, "envs": [e]} for e in envs.values()],
    )


@pytest.fixture
def ecr_client(aws_account):
    return client(aws_account, "ecr")


def push(ecr_client, tag: str, seed: str | None = None, repository: str = "hello-color") -> str:
    """Put an image under ``tag``; returns its digest."""
    response = ecr_client.put_image(
        repositoryName=repository, imageManifest=ecr_manifest(seed or tag), imageTag=tag
    )
    return response["image"]["imageId"]["imageDigest"]


@pytest.fixture
def ecr_feed(aws_account, admin_user, ecr_client):
    from feeds.services import feed_create

    ecr_client.create_repository(repositoryName="hello-color")
    for tag in TAGS:
        push(ecr_client, tag)
    return feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)


@pytest.fixture
def project(envs, standard_lifecycle, ecr_feed, aws_account, admin_user):
    """Hello Color on the standard lifecycle, deploying ``web`` from hello-color."""
    project = ProjectFactory(name="Hello Color", slug="hello-color", lifecycle=standard_lifecycle)
    variable_set_replace(
        project=project,
        user=admin_user,
        rows=[
            VariableInput("Color", "red"),
            VariableInput("Message", "Hello #{Environment.Name}"),
            VariableInput("DbPassword", "s3cret-value", type="sensitive"),
            VariableInput("TaskName", "hello"),
            VariableInput("ClusterName", "cluster"),
            VariableInput("ServiceName", "hello-svc"),
            VariableInput("AwsAccount", aws_account.slug, type="aws-account"),
        ],
    )
    process_update(project=project, steps=[ecs_step(ecr_feed)], user=admin_user)
    return project


@pytest.fixture
def bare_project(envs, standard_lifecycle):
    """A project without a process: releases of it pin no package (no registry involved)."""
    return ProjectFactory(name="Bare", slug="bare", lifecycle=standard_lifecycle)
