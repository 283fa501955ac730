"""One cache of boto3 clients for the whole process (ECR feeds and the ECS step alike)."""

import pytest

from deployserver.core import aws
from tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_clients():
    aws.clear_clients()
    yield
    aws.clear_clients()


def test_a_client_is_reused_until_the_account_changes():
    account = AwsAccountFactory(endpoint_url="http://127.0.0.1:5000")
    first = aws.cached_client(account, "ecr", "eu-west-1")
    assert aws.cached_client(account, "ecr", "eu-west-1") is first
    assert aws.cached_client(account, "ecr", "eu-west-2") is not first
    assert aws.cached_client(account, "ecs", "eu-west-1") is not first
    account.description = "edited"
    account.save()
    assert aws.cached_client(account, "ecr", "eu-west-1") is not first


def test_a_reused_client_lives_less_than_the_assumed_role_renewal_margin(monkeypatch):
    account = AwsAccountFactory(endpoint_url="http://127.0.0.1:5000")
    now = [1000.0]
    monkeypatch.setattr(aws.time, "monotonic", lambda: now[0])
    first = aws.cached_client(account, "ecr", "eu-west-1")
    margin = aws._RENEW_BEFORE.total_seconds()
    assert margin > aws.CLIENT_REUSE_SECONDS
    now[0] += aws.CLIENT_REUSE_SECONDS - 1
    assert aws.cached_client(account, "ecr", "eu-west-1") is first
    now[0] += 2
    assert aws.cached_client(account, "ecr", "eu-west-1") is not first


def test_another_factory_gets_its_own_client():
    account = AwsAccountFactory()
    made = object()
    client = aws.cached_client(account, "ecs", factory=lambda account, service, region: made)
    assert client is made
    assert aws.cached_client(account, "ecs") is not made
