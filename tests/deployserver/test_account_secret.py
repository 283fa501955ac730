"""An AWS account's secret: one rule (the account service) for the page, the API and the admin.

A blank secret is refused when an account is created, kept on an update, and cleared when the
endpoint URL or the role changes unless the same update supplies it again.
"""

import pytest
from django.urls import reverse

from deployserver.core.models import AuditEvent, AwsAccount
from deployserver.core.services import SECRET_REQUIRED
from tests.factories import AwsAccountFactory

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "name": "Production",
    "slug": "production",
    "description": "",
    "access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "secret_access_key": "",
    "region": "eu-west-1",
    "role_arn": "",
    "external_id": "",
    "endpoint_url": "",
}
ROLE = "arn:aws:iam::123456789012:role/deployer"


def page_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_page_api_and_admin_refuse_a_new_account_without_a_secret(admin_client, admin_api):
    page = admin_client.post(reverse("account-create"), ACCOUNT)
    api = admin_api.post("/api/accounts/", ACCOUNT, format="json")
    admin = admin_client.post(reverse("admin:deployserver_awsaccount_add"), ACCOUNT)
    assert (page.status_code, api.status_code, admin.status_code) == (400, 400, 200)
    assert page_errors(page, "secret_access_key") == [SECRET_REQUIRED]
    assert api.json()["secret_access_key"] == [SECRET_REQUIRED]
    assert admin.context["adminform"].form.errors["secret_access_key"] == [SECRET_REQUIRED]
    assert not AwsAccount.objects.exists()


def test_page_api_and_admin_keep_the_secret_on_a_blank_update(admin_client, admin_api):
    account = AwsAccountFactory(slug="production", secret_access_key="kept")
    data = {**ACCOUNT, "name": account.name, "access_key_id": account.access_key_id}
    page = admin_client.post(reverse("account-edit", kwargs={"slug": account.slug}), data)
    assert page.status_code == 302
    api = admin_api.patch(
        f"/api/accounts/{account.pk}/",
        {"secret_access_key": "", "region": "eu-west-2"},
        format="json",
    )
    assert api.status_code == 200, api.content
    admin_url = reverse("admin:deployserver_awsaccount_change", args=[account.pk])
    assert admin_client.post(admin_url, {**data, "region": "eu-west-3"}).status_code == 302
    account.refresh_from_db()
    assert (account.secret_access_key, account.region) == ("kept", "eu-west-3")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"endpoint_url": "http://127.0.0.1:5000"}, "endpoint_url"), ({"role_arn": ROLE}, "role_arn")],
    ids=["endpoint", "role"],
)
def test_the_api_clears_the_secret_when_the_endpoint_or_role_changes(admin_api, change, field):
    account = AwsAccountFactory(secret_access_key="bound")
    response = admin_api.patch(f"/api/accounts/{account.pk}/", change, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["has_secret"] is False
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == ""
    event = AuditEvent.objects.filter(object_type="deployserver.awsaccount").latest("id")
    assert event.changes["secret_access_key"][1] == f"(cleared: {field} changed)"
    assert "bound" not in str(event.changes)


def test_the_api_keeps_a_secret_sent_with_the_new_endpoint(admin_api):
    account = AwsAccountFactory(secret_access_key="old")
    change = {"endpoint_url": "http://127.0.0.1:5000", "secret_access_key": "new"}
    assert admin_api.patch(f"/api/accounts/{account.pk}/", change, format="json").status_code == 200
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == "new"
    admin_api.patch(f"/api/accounts/{account.pk}/", {"description": "x"}, format="json")
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == "new"


def test_the_page_clears_the_secret_when_the_endpoint_changes(admin_client):
    account = AwsAccountFactory(slug="production", secret_access_key="bound")
    url = reverse("account-edit", kwargs={"slug": account.slug})
    page = admin_client.get(url).content.decode()
    assert "Changing the endpoint URL or the role clears it" in page
    data = {
        **ACCOUNT,
        "name": account.name,
        "access_key_id": account.access_key_id,
        "endpoint_url": "http://127.0.0.1:5000",
    }
    response = admin_client.post(url, data, follow=True)
    assert "The stored secret access key was cleared because the endpoint_url changed" in (
        response.content.decode()
    )
    assert AwsAccount.objects.get(pk=account.pk).secret_access_key == ""
    event = AuditEvent.objects.filter(object_type="deployserver.awsaccount").latest("id")
    assert event.changes["secret_access_key"][1] == "(cleared: endpoint_url changed)"


def test_an_account_without_a_secret_says_so_when_used(admin_client):
    account = AwsAccountFactory(slug="production", secret_access_key="bound")
    AwsAccount.objects.filter(pk=account.pk).update(secret_access_key="")
    response = admin_client.post(
        reverse("account-check", kwargs={"slug": account.slug}), HTTP_HX_REQUEST="true"
    )
    assert "has no secret access key" in response.content.decode()
