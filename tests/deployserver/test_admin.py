"""The Django admin: every model is there, writes are audited, secrets stay hidden."""

import pytest
from django.urls import reverse

from deployserver.core.models import AuditEvent, AwsAccount
from releases.models import Environment, Lifecycle
from tests.factories import SECRET_ACCESS_KEY, AwsAccountFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "deployserver_awsaccount",
    "deployserver_apikey",
    "deployserver_auditevent",
    "releases_environment",
    "releases_lifecycle",
    "releases_project",
]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_an_admin_list(admin_client, release_train, model):
    assert admin_client.get(reverse(f"admin:{model}_changelist")).status_code == 200


def test_the_admin_never_shows_an_account_secret(admin_client):
    account = AwsAccountFactory(name="Sandbox", slug="sandbox")
    page = admin_client.get(reverse("admin:deployserver_awsaccount_change", args=[account.pk]))
    assert page.status_code == 200
    assert SECRET_ACCESS_KEY not in page.content.decode()


def test_an_admin_edit_with_a_blank_secret_keeps_it_and_is_audited(admin_client):
    account = AwsAccountFactory(name="Sandbox", slug="sandbox", secret_access_key="kept")
    url = reverse("admin:deployserver_awsaccount_change", args=[account.pk])
    data = {
        "name": "Sandbox 2",
        "slug": "sandbox",
        "description": "",
        "access_key_id": account.access_key_id,
        "secret_access_key": "",
        "region": "eu-west-1",
        "role_arn": "",
        "external_id": "",
        "endpoint_url": "",
    }
    assert admin_client.post(url, data).status_code == 302
    account = AwsAccount.objects.get()
    assert (account.name, account.secret_access_key) == ("Sandbox 2", "kept")
    event = AuditEvent.objects.get(object_type="deployserver.awsaccount", action="update")
    assert "kept" not in str(event.changes)


def test_an_environment_added_in_the_admin_is_audited(admin_client):
    url = reverse("admin:releases_environment_add")
    data = {"name": "QA", "slug": "qa", "description": "", "sort_order": "4"}
    assert admin_client.post(url, data).status_code == 302
    assert Environment.objects.get().name == "QA"
    assert AuditEvent.objects.filter(object_type="releases.environment", action="create").exists()


def test_the_default_lifecycle_cannot_be_deleted_in_the_admin(admin_client):
    default = Lifecycle.objects.get(is_default=True)
    url = reverse("admin:releases_lifecycle_delete", args=[default.pk])
    assert admin_client.get(url).status_code == 403


def test_api_keys_and_audit_events_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:deployserver_apikey_add")).status_code == 403
    assert admin_client.get(reverse("admin:deployserver_auditevent_add")).status_code == 403
