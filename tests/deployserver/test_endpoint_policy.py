"""AWS endpoints follow the endpoint policy when saved and again whenever a client is made."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_account_endpoint_on_loopback_is_refused_when_saved_under_the_default_policy(
    admin_api, settings
):
    settings.DEPLOYSERVER_ENDPOINT_POLICY = "private"
    response = admin_api.post(
        "/api/accounts/",
        {
            "name": "Local",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "secret",
            "region": "eu-west-1",
            "endpoint_url": "http://127.0.0.1:6379",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "loopback" in response.json()["endpoint_url"][0]


def test_a_saved_endpoint_is_checked_again_before_each_call(admin_api, aws_account, settings):
    assert admin_api.post(f"/api/accounts/{aws_account.pk}/test/").status_code == 200
    settings.DEPLOYSERVER_ENDPOINT_POLICY = "private"
    response = admin_api.post(f"/api/accounts/{aws_account.pk}/test/")
    assert response.status_code == 502
    assert "is a loopback address" in response.json()["detail"]
