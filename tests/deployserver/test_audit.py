"""Audit events: one per create/update/delete, newest first, filterable, never holding a secret."""

import json

import pytest

from deployserver.core.models import AuditEvent, AwsAccount
from feeds.models import Feed
from tests.factories import SECRET_ACCESS_KEY, AwsAccountFactory, DockerFeedFactory

pytestmark = pytest.mark.django_db

NEW_SECRET = "Zq8/NEWsecretVALUEthatMUSTneverLEAK000"


def crud(api, collection: str, create: dict, update: dict, key: str = "id") -> None:
    created = api.post(f"/api/{collection}/", create, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/{collection}/{created.json()[key]}/"
    assert api.patch(url, update, format="json").status_code == 200
    assert api.delete(url).status_code == 204


def events(api, **params) -> list[dict]:
    response = api.get("/api/audit/", params)
    assert response.status_code == 200
    return response.json()["results"]


@pytest.fixture
def every_kind_of_change(admin_api):
    AuditEvent.objects.all().delete()  # the API key the client uses is audited too
    crud(admin_api, "environments", {"name": "Dev"}, {"description": "d"})
    admin_api.post("/api/environments/", {"name": "Prod"}, format="json")
    crud(
        admin_api,
        "lifecycles",
        {"name": "Main", "phases": [{"name": "P", "environments": ["prod"]}]},
        {"description": "x"},
    )
    crud(admin_api, "projects", {"name": "Shop"}, {"description": "y"}, key="slug")
    crud(
        admin_api,
        "accounts",
        {
            "name": "Prod account",
            "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key": SECRET_ACCESS_KEY,
            "region": "eu-west-1",
        },
        {"secret_access_key": NEW_SECRET, "region": "eu-west-2"},
    )


def test_every_create_update_and_delete_is_recorded_with_who_did_it(
    admin_api, every_kind_of_change
):
    recorded = {(e["object_type"], e["action"]) for e in events(admin_api, page_size=100)}
    for object_type in (
        "releases.environment",
        "releases.lifecycle",
        "releases.project",
        "deployserver.awsaccount",
    ):
        for action in ("create", "update", "delete"):
            assert (object_type, action) in recorded
    assert set(AuditEvent.objects.values_list("actor_name", flat=True)) == {"admin"}


def test_audit_events_come_newest_first(admin_api, every_kind_of_change):
    listed = events(admin_api, page_size=100)
    assert listed[0]["object_type"] == "deployserver.awsaccount"
    assert listed[0]["action"] == "delete"
    times = [e["created_at"] for e in listed]
    assert times == sorted(times, reverse=True)
    assert [e["id"] for e in listed] == list(
        AuditEvent.objects.order_by("-created_at", "-id").values_list("id", flat=True)
    )


def test_audit_events_filter_by_object_type(admin_api, every_kind_of_change):
    listed = events(admin_api, object_type="releases.project")
    assert [e["action"] for e in listed] == ["delete", "update", "create"]
    assert {e["object_repr"] for e in listed} == {"Shop"}
    assert events(admin_api, object_type="no.such") == []


def test_an_update_records_what_changed(admin_api, every_kind_of_change):
    update = events(admin_api, object_type="releases.environment")[-2]
    assert update["action"] == "update"
    assert update["changes"] == {"description": ["", "d"]}
    assert update["summary"] == "Updated environment Dev"


def test_no_secret_value_appears_in_any_audit_event(admin_api, every_kind_of_change):
    dumped = json.dumps(events(admin_api, page_size=100)) + json.dumps(
        list(AuditEvent.objects.values()), default=str
    )
    assert SECRET_ACCESS_KEY not in dumped
    assert NEW_SECRET not in dumped
    account_update = events(admin_api, object_type="deployserver.awsaccount")[1]
    assert account_update["action"] == "update"
    assert "secret_access_key" in account_update["changes"]
    assert "region" in account_update["changes"]


def test_a_refused_change_records_nothing(admin_api):
    before = AuditEvent.objects.count()
    admin_api.post("/api/environments/", {"name": ""}, format="json")
    admin_api.post(
        "/api/lifecycles/",
        {"name": "X", "phases": [{"name": "", "environments": []}]},
        format="json",
    )
    assert AuditEvent.objects.count() == before


def test_the_audit_api_is_read_only(admin_api):
    assert admin_api.post("/api/audit/", {"summary": "forged"}, format="json").status_code == 405


def test_an_account_a_feed_uses_is_not_deleted_and_the_feed_is_named(admin_api):
    account = AwsAccountFactory(name="Prod account")
    DockerFeedFactory(name="Images", feed_type=Feed.FeedType.AWS_ECR, url="", account=account)
    AuditEvent.objects.all().delete()
    response = admin_api.delete(f"/api/accounts/{account.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "AWS account Prod account is still used by feed Images; change those first."
    }
    assert AwsAccount.objects.filter(pk=account.pk).exists()
    assert not AuditEvent.objects.exists()


def test_an_update_that_changes_nothing_records_nothing(admin_api):
    created = admin_api.post("/api/environments/", {"name": "Dev"}, format="json").json()
    count = AuditEvent.objects.count()
    url = f"/api/environments/{created['id']}/"
    response = admin_api.patch(url, {"name": "Dev"}, format="json")
    assert response.status_code == 200
    assert AuditEvent.objects.count() == count
