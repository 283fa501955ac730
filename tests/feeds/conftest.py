"""Feed fixtures: a feed on moto ECR and one on each ``docker-registry`` server (the repositories
and registries are ``ecr``, ``registry_auth`` and ``registry_anon``, in tests/scenarios.py)."""

import pytest

from tests.scenarios import REGISTRY_PASSWORD, REGISTRY_USER


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
