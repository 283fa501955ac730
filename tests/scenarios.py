"""The data the tests share, as fixtures (a plugin of ``tests/conftest.py``): environments, the
lifecycle and project of the release scenario, the ECS example, and the seeded sandbox.

- ``ecr``: ECR on moto with team/api (``FEED_TAGS``) and web; ``registry_auth`` (htpasswd) and
  ``registry_anon``: docker-registry servers with the same repositories, for the feed tests.
- ``dev_prod``: environments Dev and Prod, a tuple; ``release_train`` puts them in a lifecycle
  with a project on it.
- ``dev_test_prod``: environments Dev, Test and Prod by slug; ``standard_lifecycle`` walks them
  in order, ``project`` (Hello Color, deploying ``web`` from ``release_feed``) and
  ``bare_project`` (no process: its releases pin no package) follow it.
- ``hello_project``: the ECS example on Dev and Prod, every difference between environments a
  variable, its package from ``ecs_example_feed``.
- ``sandbox``: the demo as ``make run`` seeds it, on moto with ECS rollouts that progress;
  ``release`` is a release of it.
"""

import json
import os

import boto3
import pytest

from deployserver.core.aws import client
from releases.process import process_update
from releases.variables import VariableInput, variable_set_replace
from tests.factories import (
    EnvironmentFactory,
    LifecycleFactory,
    PhaseEnvironmentFactory,
    PhaseFactory,
    ProjectFactory,
    ecs_step,
    make_dev_test_prod,
    make_standard_lifecycle,
)
from tests.feeds.registry_kit import RegistryBinaryMissing, ecr_manifest, start_registry

# Read by the Celery worker process too (it starts with this environment).
os.environ["DEPLOYSERVER_ROLLOUT_POLL_SECONDS"] = "0.2"
ROLLOUT_SECONDS = 1.0

# The sensitive variable of the ECS example: every form of it must stay on the server.
SECRET = 'p@ss"word/with+symbols=='
# The tags of team/api in the feeds' registries (ECR on moto, docker-registry).
FEED_TAGS = ["1.0.0", "1.0.1", "1.9.0", "1.10.0", "1.1.0-beta.1", "v2.0.0", "latest", "not-semver"]
# The credentials of the registry_auth server.
REGISTRY_USER = "pusher"
REGISTRY_PASSWORD = "s3cret-Pass-42"
# The tags of hello-color in the release scenario's feed.
RELEASE_TAGS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0-rc.1", "latest"]


# The feeds' ECR repositories ---------------------------------------------------------------------


@pytest.fixture
def ecr(moto):
    """A boto3 ECR client on the moto server, with team/api (FEED_TAGS) and web (one tag)."""
    client = boto3.client(
        "ecr",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    for repo in ("team/api", "web"):
        client.create_repository(repositoryName=repo)
    for tag in FEED_TAGS:
        client.put_image(
            repositoryName="team/api", imageManifest=ecr_manifest(f"team/api:{tag}"), imageTag=tag
        )
    client.put_image(
        repositoryName="web", imageManifest=ecr_manifest("web:0.1.0"), imageTag="0.1.0"
    )
    return client


# The feeds' registries: two docker-registry servers for the session ------------------------------
# One with htpasswd auth, one anonymous; a missing binary fails the tests.


def _registry(tmp_path_factory, name, **auth):
    try:
        registry = start_registry(tmp_path_factory.mktemp(name), **auth)
    except RegistryBinaryMissing as exc:
        pytest.fail(str(exc))
    for tag in FEED_TAGS:
        registry.push("team/api", tag)
    registry.push("web", "0.1.0")
    registry.push("tools/ci/runner", "3.0.0")
    return registry


@pytest.fixture(scope="session")
def registry_auth(tmp_path_factory):
    """docker-registry with htpasswd auth: team/api (FEED_TAGS), web, tools/ci/runner (one tag)."""
    registry = _registry(
        tmp_path_factory, "registry-auth", username=REGISTRY_USER, password=REGISTRY_PASSWORD
    )
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_anon(tmp_path_factory):
    """docker-registry without auth, with the same repositories as ``registry_auth``."""
    registry = _registry(tmp_path_factory, "registry-anon")
    yield registry
    registry.stop()


# Environments and lifecycles -------------------------------------------------------------------


@pytest.fixture
def dev_prod(db):
    """Two environments, Dev and Prod, in that order."""
    return (
        EnvironmentFactory(name="Dev", slug="dev", sort_order=1),
        EnvironmentFactory(name="Prod", slug="prod", sort_order=2),
    )


@pytest.fixture
def release_train(dev_prod):
    """A lifecycle "Release train" with phases Build (Dev) and Ship (Prod), and a project on it."""
    dev, prod = dev_prod
    lifecycle = LifecycleFactory(name="Release train", slug="release-train")
    build = PhaseFactory(lifecycle=lifecycle, name="Build", sort_order=0)
    ship = PhaseFactory(lifecycle=lifecycle, name="Ship", sort_order=1)
    PhaseEnvironmentFactory(phase=build, environment=dev)
    PhaseEnvironmentFactory(phase=ship, environment=prod, automatic=True)
    ProjectFactory(name="Web shop", slug="web-shop", lifecycle=lifecycle)
    return lifecycle


@pytest.fixture
def dev_test_prod(db):
    """Environments Dev, Test and Prod, in that order, by slug."""
    return make_dev_test_prod()


@pytest.fixture
def standard_lifecycle(dev_test_prod):
    """Dev, then Test, then Prod: one required phase each."""
    return make_standard_lifecycle(dev_test_prod)


# The release scenario: hello-color in ECR on moto, a project deploying it ----------------------


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
def release_feed(aws_account, admin_user, ecr_client):
    """An ECR feed whose hello-color repository has ``RELEASE_TAGS``."""
    from feeds.services import feed_create

    ecr_client.create_repository(repositoryName="hello-color")
    for tag in RELEASE_TAGS:
        push(ecr_client, tag)
    return feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)


@pytest.fixture
def project(dev_test_prod, standard_lifecycle, release_feed, aws_account, admin_user):
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
    process_update(project=project, steps=[ecs_step(release_feed)], user=admin_user)
    return project


@pytest.fixture
def bare_project(dev_test_prod, standard_lifecycle):
    """A project without a process: releases of it pin no package (no registry involved)."""
    return ProjectFactory(name="Bare", slug="bare", lifecycle=standard_lifecycle)


# The ECS example: Dev and Prod, hello-color in ECR on moto, every difference a variable --------


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


@pytest.fixture
def ecs_example_feed(aws_account, admin_user):
    """An ECR feed whose hello-color repository has 1.0.0, 1.0.1, 1.1.0-beta.1 and latest."""
    from feeds.services import feed_create

    ecr = client(aws_account, "ecr")
    ecr.create_repository(repositoryName="hello-color")
    for tag in ("1.0.0", "1.0.1", "1.1.0-beta.1", "latest"):
        ecr.put_image(
            repositoryName="hello-color", imageManifest=manifest(f"hello:{tag}"), imageTag=tag
        )
    return feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)


@pytest.fixture
def hello_project(dev_prod, ecs_example_feed, aws_account, admin_user):
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
    process_update(project=project, steps=[ecs_step(ecs_example_feed)], user=admin_user)
    return project


# The sandbox: the demo seeded as `make run` seeds it, with ECS rollouts that progress ----------


@pytest.fixture
def fast_rollouts(settings, monkeypatch):
    from sandbox import rollouts

    rollouts.install()  # in this process, where the moto server runs
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")  # read by moto's create_service
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", ROLLOUT_SECONDS)
    settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS = 0.2


@pytest.fixture
def sandbox(moto, fast_rollouts, admin_user):
    """Seed the demo on a fresh moto (account, ECR feed and images, Dev/Test/Prod, Hello Color
    with its ECS step and variables, a cluster and service per environment); yields the project.
    """
    from sandbox import seed

    account = seed.seed_database(moto)
    seed.seed_aws(account)
    return seed.seed_project(account)


@pytest.fixture
def release(sandbox, admin_user):
    from releases.releasing import release_create

    return release_create(project=sandbox, user=admin_user, packages={"web": "1.0.1"})
