"""The AWS account forms: errors shown in place, a blank secret keeps the stored one, and the
connection test answers inline."""

import pytest
from django.urls import reverse

from deployserver.core.models import AwsAccount
from tests.factories import SECRET_ACCESS_KEY, AwsAccountFactory
from tests.form_kit import field_errors

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "name": "Production",
    "access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "secret_access_key": SECRET_ACCESS_KEY,
    "region": "eu-west-1",
}


def test_an_account_is_created_with_its_secret_encrypted(admin_client):
    response = admin_client.post(reverse("account-create"), ACCOUNT)
    assert response.status_code == 302
    account = AwsAccount.objects.get(slug="production")
    assert account.secret_access_key == SECRET_ACCESS_KEY


def test_an_account_needs_a_secret_when_created(admin_client):
    response = admin_client.post(reverse("account-create"), {**ACCOUNT, "secret_access_key": ""})
    assert response.status_code == 400
    assert field_errors(response, "secret_access_key") == ["This field is required."]


def test_bad_region_and_endpoint_are_shown_next_to_their_fields(admin_client):
    data = {**ACCOUNT, "region": "Europe", "endpoint_url": "ftp://x"}
    response = admin_client.post(reverse("account-create"), data)
    assert response.status_code == 400
    assert field_errors(response, "region") == [
        "Enter an AWS region such as eu-west-1 or us-east-1."
    ]
    assert "http://" in field_errors(response, "endpoint_url")[0]
    assert SECRET_ACCESS_KEY not in response.content.decode()
    assert not AwsAccount.objects.exists()


def test_editing_an_account_with_a_blank_secret_keeps_it(admin_client):
    AwsAccountFactory(name="Sandbox", slug="sandbox", secret_access_key="kept-secret")
    url = reverse("account-edit", kwargs={"slug": "sandbox"})
    data = {**ACCOUNT, "name": "Sandbox", "secret_access_key": ""}
    assert admin_client.post(url, data).status_code == 302
    assert AwsAccount.objects.get().secret_access_key == "kept-secret"
    assert admin_client.post(url, {**data, "secret_access_key": "new-secret"}).status_code == 302
    assert AwsAccount.objects.get().secret_access_key == "new-secret"


def test_test_connection_shows_the_caller_arn(admin_client, aws_account):
    url = reverse("account-check", kwargs={"slug": aws_account.slug})
    response = admin_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Authenticated as arn:aws:" in response.content.decode()


def test_test_connection_shows_an_aws_failure_in_red_without_a_500(admin_client, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 1
    account = AwsAccountFactory(name="Dead", slug="dead", endpoint_url="http://127.0.0.1:9")
    url = reverse("account-check", kwargs={"slug": account.slug})
    response = admin_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="inline-result error"' in html and "127.0.0.1:9" in html


def test_test_connection_needs_the_change_permission(viewer_client, aws_account):
    url = reverse("account-check", kwargs={"slug": aws_account.slug})
    assert viewer_client.post(url, HTTP_HX_REQUEST="true").status_code == 403
