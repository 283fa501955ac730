"""Core lists cost a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deployserver.core.services import aws_account_update
from tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    client.get(url)  # warm up: session, API key last-used write
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_accounts_and_audit_api_lists_cost_the_same_queries_for_few_or_many(
    admin_api, admin_user
):
    accounts = AwsAccountFactory.create_batch(2)
    few = [queries_for(admin_api, url) for url in ("/api/accounts/", "/api/audit/")]
    accounts += AwsAccountFactory.create_batch(30)
    for index, account in enumerate(accounts):
        aws_account_update(account=account, user=admin_user, description=f"d{index}")
    assert [queries_for(admin_api, url) for url in ("/api/accounts/", "/api/audit/")] == few
