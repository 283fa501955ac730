"""Feed fixtures: moto ECR repositories, and two real ``docker-registry`` servers (one with
htpasswd auth, one anonymous) started for the session. A missing binary fails the tests."""

import boto3
import pytest

from .registry_kit import RegistryBinaryMissing, ecr_manifest, start_registry

TAGS = ["1.0.0", "1.0.1", "1.9.0", "1.10.0", "1.1.0-beta.1", "v2.0.0", "latest", "not-semver"]
REGISTRY_USER = "pusher"
REGISTRY_PASSWORD = "s3cret-Pass-42"


def _registry(tmp_path_factory, name, **auth):
    try:
        registry = start_registry(tmp_path_factory.mktemp(name), **auth)
    except RegistryBinaryMissing as exc:
        pytest.fail(str(exc))
    for tag in TAGS:
        registry.push("team/api", tag)
    registry.push("web", "0.1.0")
    registry.push("tools/ci/runner", "3.0.0")
    return registry


@pytest.fixture(scope="session")
def registry_auth(tmp_path_factory):
    """docker-registry with htpasswd auth; team/api has TAGS, web and tools/ci/runner one each."""
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


@pytest.fixture
def ecr(moto):
    """A boto3 ECR client on the moto server, with team/api (TAGS) and web (one tag)."""
    client = boto3.client(
        "ecr",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    for repo in ("team/api", "web"):
        client.create_repository(repositoryName=repo)
    for tag in TAGS:
        client.put_image(
            repositoryName="team/api", imageManifest=ecr_manifest(f"team/api:{tag}"), imageTag=tag
        )
    client.put_image(
        repositoryName="web", imageManifest=ecr_manifest("web:0.1.0"), imageTag="0.1.0"
    )
    return client


@pytest.fixture
def ecr_feed(aws_account, admin_user, ecr):
    from feeds.services import feed_create

    return feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)


@pytest.fixture
def docker_feed(db, admin_user, registry_auth):
    from feeds.services import feed_create

    return feed_create(
        user=admin_user,
        name="Private registry",
        feed_type="docker-registry",
        url=registry_auth.url,
        username=REGISTRY_USER,
        password=REGISTRY_PASSWORD,
    )


@pytest.fixture
def anon_feed(db, admin_user, registry_anon):
    from feeds.services import feed_create

    return feed_create(
        user=admin_user, name="Open registry", feed_type="docker-registry", url=registry_anon.url
    )
