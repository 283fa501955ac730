"""The demo sandbox as the AWS to deploy to: moto over HTTP with progressing ECS rollouts, seeded
exactly as ``make run`` seeds it (account, ECR feed and images, Dev/Test/Prod, Hello Color with
its ECS step and variables, a cluster and service per environment)."""

import os

import pytest
from django.core.cache import cache

from sandbox import rollouts

# Read by the Celery worker process too (it starts with this environment).
os.environ["DEPLOYSERVER_ROLLOUT_POLL_SECONDS"] = "0.2"
ROLLOUT_SECONDS = 1.0


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fast_rollouts(settings, monkeypatch):
    rollouts.install()  # in this process, where the moto server runs
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")  # read by moto's create_service
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", ROLLOUT_SECONDS)
    settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS = 0.2


@pytest.fixture
def sandbox(moto, fast_rollouts, admin_user):
    """Seed the demo on a fresh moto; yields the Hello Color project."""
    from sandbox import seed

    account = seed.seed_database(moto)
    seed.seed_aws(account)
    return seed.seed_project(account)


@pytest.fixture
def release(sandbox, admin_user):
    from releases.releasing import release_create

    return release_create(project=sandbox, user=admin_user, packages={"web": "1.0.1"})
