"""Feed fixtures: feeds on moto ECR (the repositories are ``ecr``, in tests/scenarios.py), and
two real ``docker-registry`` servers (one with htpasswd auth, one anonymous) started for the
session. A missing binary fails the tests."""

import pytest

from tests.scenarios import FEED_TAGS

from .registry_kit import RegistryBinaryMissing, start_registry

REGISTRY_USER = "pusher"
REGISTRY_PASSWORD = "s3cret-Pass-42"


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
